"""The main action: semantic search over the corpus, answering who is responsible and what next.

It also runs the parts of the dialogue that depend on the search: asking for residence status
or municipality only when that changes the answer, the newcomer checklist, and the two-stage
fallback (rephrase with suggestions, then human help at International House Helsinki).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import Reply, answer, ask_detail, handoff, rephrase
from actions.checklist import checklist
from actions.clarify import missing_detail
from actions.engine import get_engine
from actions.language import ActionValidateSlotMappings
from actions.language_detection import SUPPORTED, detect_language
from actions.log_privacy import describe_message
from actions.outdated_terms import successors, terms_in
from actions.residence import residence_from_text
from actions.slot_changes import changed_values
from embeddings.query_vector import handed_vector
from embeddings.search import Filters, SearchResult
from knowledge.vocabulary import vocabulary
from opastin.config import settings
from opastin.yaml_files import read_yaml

logger = logging.getLogger(__name__)
VALIDATE_KEY = "opastin_validate_slots"  # set by Rasa: bot/policies/validation_in_call.py
HINTS_FILE = Path(__file__).with_name("intent_hints.yaml")
CHECKLIST = "__newcomer_checklist__"  # pending_question value: the checklist awaits a status
MISSES_BEFORE_HANDOFF = 2
SHORT_REPLY_WORDS = 6  # "I'm from Lagos, Nigeria" answers; a longer message asks its own
# A broad question the search is unsure about ("I am looking for a job", 0.83 < 0.84) is
# answered by the organisation its intent points to when the NLU is this sure and the search
# came this close to the threshold; gibberish stays far below it and gets "rephrase".
SURE_INTENT = 0.8
BROAD_MARGIN = 0.03


@lru_cache(maxsize=1)
def intent_hints() -> dict[str, list[str]]:
    return read_yaml(HINTS_FILE)


async def validation_in_this_call(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[dict[str, Any]]:
    """The slot validation Rasa postponed into this call (bot/policies/validation_in_call.py):
    run first, its slots set on `tracker` for the answer, its events returned before the
    answer's. Without the request's mark, Rasa has already made the validation call."""
    if not (tracker.latest_message or {}).get(VALIDATE_KEY):
        return []
    return await ActionValidateSlotMappings().run(dispatcher, tracker, domain)


def conversation_language(tracker: Tracker) -> str:
    """The language slot (set every turn by action_validate_slot_mappings), else detected."""
    language = tracker.get_slot("language")
    if language in SUPPORTED:
        return language
    message = tracker.latest_message or {}
    page_language = (message.get("metadata") or {}).get("language")
    return detect_language(message.get("text") or "", fallback=page_language)


def latest_intent(tracker: Tracker) -> str:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def filters_from(tracker: Tracker, intent: str, outdated: tuple[str, ...] = ()) -> Filters:
    """Search filters from the slots; the intent's and outdated names' organisations as hints."""
    municipality = tracker.get_slot("municipality")
    hints = dict.fromkeys([*intent_hints().get(intent, ()), *outdated])
    return Filters(
        municipality=None if municipality == vocabulary().municipality_elsewhere else municipality,
        status=tracker.get_slot("residence_status"),
        organisation_hints=tuple(hints),
        purpose=tracker.get_slot("purpose"),
    )


def states_status_only(text: str, pending_question: str | None) -> bool:
    """A short reply that states a status ("я из Казахстана") answers the pending question,
    whatever intent the NLU gave it; a longer message is a question of its own."""
    short = len(text.split()) <= SHORT_REPLY_WORDS
    return bool(pending_question) and short and residence_from_text(text) is not None


def named_by(result: SearchResult, organisations: Sequence[str]) -> SearchResult:
    """An unsure search answered by the organisation something else names, when one of its
    services is among the results: an outdated office name ("TE office" -> its successor), or
    a broad question the NLU places with confidence ("I am looking for a job" -> job_search ->
    employment services). The answer then offers that organisation's closer services."""
    groups = [o for o in result.organisations if o.organisation.id in organisations]
    if not groups:
        return result
    others = [o for o in result.organisations if o not in groups]
    return replace(result, organisations=[*groups[:1], *others], threshold=result.confidence)


def intent_confidence(tracker: Tracker) -> float:
    return float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)


def answered(question: str) -> dict[str, Any]:
    """Slots after a full answer: nothing pending, no misses, the question kept for corrections."""
    return {"pending_question": None, "misses": 0.0, "last_question": question}


def slot_changes(tracker: Tracker, values: dict[str, Any]) -> list[dict[str, Any]]:
    """SlotSet events for the slots whose value `values` changes: `language` was set by the slot
    validation moments before, `pending_question` and `misses` are mostly None and 0.0 already
    (none of them influences the dialogue, bot/domain.yml)."""
    return [SlotSet(name, value) for name, value in changed_values(tracker, values).items()]


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons, json_message=reply.custom)


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        validated = await validation_in_this_call(dispatcher, tracker, domain)
        return [*validated, *await self.answer(dispatcher, tracker)]

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        language = conversation_language(tracker)
        intent = latest_intent(tracker)
        # An `inform` answers the pending clarifying question, or corrects a detail of the
        # question answered last ("sorry, I'm actually a Nordic citizen"): answer it again.
        pending = tracker.get_slot("pending_question") or (
            tracker.get_slot("last_question") if intent == "inform" else None
        )
        text = (tracker.latest_message or {}).get("text") or ""
        answering_clarification = bool(pending) and (
            intent == "inform" or states_status_only(text, tracker.get_slot("pending_question"))
        )
        question: str = str(pending) if answering_clarification else text
        slots = {"language": language}
        engine = get_engine()
        # The widget (socket.io) renders Markdown; REST and Telegram clients get plain text.
        markdown = tracker.get_latest_input_channel() == "socketio"

        if intent == "newcomer_checklist" or question == CHECKLIST:
            status = tracker.get_slot("residence_status")
            if status is None:
                reply = ask_detail("residence_status", SearchResult("", [], [], 0.0, 0.0), language)
                send(dispatcher, reply)
                return slot_changes(tracker, {**slots, "pending_question": CHECKLIST})
            purpose = tracker.get_slot("purpose")
            send(dispatcher, checklist(engine.corpus, status, purpose, language, markdown))
            return slot_changes(tracker, {**slots, **answered(CHECKLIST)})

        outdated = terms_in(question)
        filters = filters_from(tracker, intent, successors(outdated))
        # The NLU's vector of this very text, when Rasa handed it over: no second encoding.
        vector = handed_vector(tracker.latest_message, question, engine.encoder)
        result = engine.search(question, filters, k=settings().top_k, vector=vector)
        if not result.answered and outdated:
            result = named_by(result, [outdated[0].term.organisation])
        sure_intent = intent_confidence(tracker) >= SURE_INTENT and not answering_clarification
        close = result.confidence >= result.threshold - BROAD_MARGIN
        if not result.answered and sure_intent and close:
            result = named_by(result, intent_hints().get(intent, []))
        logger.info(
            "search %s -> %s (confidence %.3f)",
            describe_message(question),
            [o.organisation.id for o in result.responsible] or "unsure",
            result.confidence,
        )
        if result.answered:
            detail = None if answering_clarification else missing_detail(result, filters)
            if detail:
                send(dispatcher, ask_detail(detail, result, language))
                return slot_changes(tracker, {**slots, "pending_question": question})
            answered_by = result.responsible[0].organisation.id
            changes = {
                t.term.id: t.note(language) for t in outdated if t.term.organisation == answered_by
            }
            send(dispatcher, answer(result, language, markdown, changes))
            return slot_changes(tracker, {**slots, **answered(question)})

        misses = int(tracker.get_slot("misses") or 0) + 1
        if misses >= MISSES_BEFORE_HANDOFF:
            send(dispatcher, handoff(engine.corpus, result, language, markdown))
            return slot_changes(tracker, {**slots, "pending_question": None, "misses": 0.0})
        send(dispatcher, rephrase(result, language))
        missed = {**slots, "pending_question": None, "misses": float(misses)}
        return slot_changes(tracker, missed)
