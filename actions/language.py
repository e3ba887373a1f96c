"""Offline language detection for user messages (lingua, limited to the languages we serve)."""

from __future__ import annotations

from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = ("en", "fi", "sv", "ru", "uk", "ar", "so", "et", "fa", "zh", "es", "de", "fr")
DEFAULT_LANGUAGE = "en"
# Below this confidence (short or mixed messages, "Kela", "ok") keep the conversation's language.
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in SUPPORTED]
    return (
        LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()
    )


def detect_language(text: str, fallback: str | None = None) -> str:
    """The message's language, or `fallback` (then English) when the text says too little."""
    fallback = fallback if fallback in SUPPORTED else DEFAULT_LANGUAGE
    text = text.strip()
    if not text:
        return fallback
    values = _detector().compute_language_confidence_values(text)
    if not values or values[0].value < MIN_CONFIDENCE:
        return fallback
    return values[0].language.iso_code_639_1.name.lower()
