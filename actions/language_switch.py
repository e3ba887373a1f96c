"""`change_language` messages: a pure switch request gets the confirmation, a question that
mentions a language ("I'd like to talk to someone in English") gets an answer.

Why an action and not the NLU alone: the intent is right about the words ("in English") but
not about what the person wants; the line is drawn by actions/language.py's
`only_asks_to_switch`, the same test the slot validation uses to make a choice stick.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_question import ActionAnswerQuestion
from actions.language import only_asks_to_switch


class ActionChangeLanguage(ActionAnswerQuestion):
    def name(self) -> str:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        if only_asks_to_switch(message.get("text") or "", message.get("entities") or []):
            dispatcher.utter_message(response="utter_change_language")
            return []
        return await super().run(dispatcher, tracker, domain)
