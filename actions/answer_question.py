"""The main action: semantic search over the corpus, answering who is responsible and what next."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_text, no_answer_payload, phrase, service_payload
from actions.engine import get_engine
from actions.language import detect_language
from embeddings.search import Filters
from opastin.config import settings

logger = logging.getLogger(__name__)
HINTS_FILE = Path(__file__).with_name("intent_hints.yaml")


@lru_cache(maxsize=1)
def intent_hints() -> dict[str, list[str]]:
    return yaml.safe_load(HINTS_FILE.read_text(encoding="utf-8"))


def conversation_language(tracker: Tracker) -> str:
    """Language of the latest message; short messages keep the conversation's language."""
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    previous = tracker.get_slot("language") or metadata.get("language")
    return detect_language(message.get("text") or "", fallback=previous)


def filters_from(tracker: Tracker) -> Filters:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return Filters(
        municipality=tracker.get_slot("municipality"),
        status=tracker.get_slot("residence_status"),
        organisation_hints=tuple(intent_hints().get(intent, ())),
    )


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message or {}).get("text") or ""
        language = conversation_language(tracker)
        result = get_engine().search(text, filters_from(tracker), k=settings().top_k)
        logger.info(
            "search %r -> %s (confidence %.3f)",
            text[:80],
            [o.organisation.id for o in result.responsible] or "unsure",
            result.confidence,
        )
        if result.answered:
            dispatcher.utter_message(
                text=answer_text(result, language), json_message=service_payload(result, language)
            )
        else:
            dispatcher.utter_message(
                text=phrase("unsure", language),
                json_message=no_answer_payload(
                    "low_confidence", language, confidence=round(result.confidence, 4)
                ),
            )
        return [SlotSet("language", language)]
