"""Offline language detection for user messages (lingua, limited to the languages we serve)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.residence import residence_slots
from knowledge.vocabulary import vocabulary

SUPPORTED = vocabulary().languages.understood
DEFAULT_LANGUAGE = vocabulary().languages.default
# Below this confidence (short or mixed messages, "Kela", "ok") keep the conversation's language.
MIN_CONFIDENCE = 0.5
# Earlier user messages searched for a residence status while the slot is empty.
MESSAGES_LOOKED_BACK = 30


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


class ActionValidateSlotMappings(ValidationAction):
    """Fills the `language` and residence slots after every user message, before the next
    bot action.

    Language: an explicit request ("in Finnish, please": intent change_language with a
    `language` entity) wins and sticks; otherwise the message's detected language, falling
    back to the conversation's language, then to the page language the widget sends as
    metadata. Residence status: see `extract_residence_status`.
    """

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        entities = message.get("entities") or []
        requested = [e.get("value") for e in entities if e.get("entity") == "language"]
        if intent == "change_language" and requested and requested[-1] in SUPPORTED:
            return {"language": requested[-1], "language_chosen": True}
        if tracker.get_slot("language_chosen"):
            return {}
        page_language = (message.get("metadata") or {}).get("language")
        fallback = tracker.get_slot("language") or page_language
        return {"language": detect_language(message.get("text") or "", fallback=fallback)}

    async def extract_residence_status(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """`residence_status` and `nationality` from what the user said ("I'm Italian").

        The NLU entity keeps priority; otherwise the latest message, then earlier ones, so
        that a status said anywhere in the conversation spares the clarifying question
        (actions/residence.py).
        """
        message = tracker.latest_message or {}
        entities = message.get("entities") or []
        user_texts = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
        return residence_slots(
            tracker.get_slot("residence_status"),
            message.get("text") or "",
            entity_found=any(e.get("entity") == "residence_status" for e in entities),
            earlier_texts=reversed(user_texts[:-1][-MESSAGES_LOOKED_BACK:]),
        )
