"""The conversation's language: the slot filled after every user message (detected language,
explicit choice, page language; detection itself is actions/language_detection.py), and the
line between asking to switch language and asking a question in a language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.language_detection import ANSWERED, WORD, detect_language
from actions.residence import residence_slots
from actions.slot_changes import changed_values
from opastin.yaml_files import read_yaml

SWITCH_WORDS_FILE = Path(__file__).with_name("switch_words.yaml")
# Earlier user messages searched for a residence status while the slot is empty.
MESSAGES_LOOKED_BACK = 30


@lru_cache(maxsize=1)
def switch_words() -> tuple[frozenset[str], tuple[str, ...]]:
    """Words of a pure switch request (all languages), and the Chinese ones (substrings)."""
    table: dict[str, list[str]] = read_yaml(SWITCH_WORDS_FILE)
    words = frozenset(w.lower() for lang, items in table.items() if lang != "zh" for w in items)
    chinese = tuple(sorted(table.get("zh", []), key=len, reverse=True))
    return words, chinese


def only_asks_to_switch(text: str, entities: list[dict[str, Any]]) -> bool:
    """True for "Can you answer in Finnish, please?"; False for a question that mentions a
    language ("I'd like to talk to someone in English", "Finnish course in English?").

    The language names the NLU found (`language` entities) and the words of a switch request
    (switch_words.yaml) are removed; anything left is a question.
    """
    # Several extractors may report the same name (CRF and the lookup table): blank every
    # reported span on the original text, so overlapping spans cannot cut into other words.
    kept = list(text)
    for e in entities:
        start, end = e.get("start"), e.get("end")
        if e.get("entity") == "language" and isinstance(start, int) and isinstance(end, int):
            kept[start:end] = " " * (end - start)
    text = "".join(kept)
    words, chinese = switch_words()
    for word in chinese:
        text = text.replace(word, " ")
    left = [w for w in WORD.findall(text.lower()) if w.strip("'‘’-") and w not in words]
    return not left


class ActionValidateSlotMappings(ValidationAction):
    """Fills the `language` and residence slots after every user message, before the next
    bot action.

    Language: an explicit request ("in Finnish, please": intent change_language with a
    `language` entity) wins and sticks; otherwise the message's detected language, falling
    back to the conversation's language, then to the page language the widget sends as
    metadata. Only a change is returned (actions/slot_changes.py): most turns keep it.
    Residence status: see `extract_residence_status`.
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
        text = message.get("text") or ""
        switching = intent == "change_language" and only_asks_to_switch(text, entities)
        if switching and requested and requested[-1] in ANSWERED:
            return changed_values(tracker, {"language": requested[-1], "language_chosen": True})
        if tracker.get_slot("language_chosen"):
            return {}
        page_language = (message.get("metadata") or {}).get("language")
        fallback = tracker.get_slot("language") or page_language
        return changed_values(tracker, {"language": detect_language(text, fallback=fallback)})

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
