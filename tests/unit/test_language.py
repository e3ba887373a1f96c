"""Language of the conversation: detected per message, explicit choice sticks, page fallback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionValidateSlotMappings, detect_language

DOMAIN = {
    "slots": {
        "language": {"type": "text", "mappings": [{"type": "custom"}]},
        "language_chosen": {"type": "bool", "mappings": [{"type": "custom"}]},
    }
}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("How do I get a tax card?", "en"),
        ("Miten saan verokortin?", "fi"),
        ("Hur får jag ett skattekort?", "sv"),
        ("Как получить налоговую карту?", "ru"),
        ("Як отримати податкову картку?", "uk"),
        ("كيف أحصل على بطاقة ضريبية؟", "ar"),
        ("Sidee ayaan u helaa kaarka canshuurta?", "so"),
        ("Kuidas ma saan maksukaardi?", "et"),
        ("چگونه کارت مالیاتی بگیرم؟", "fa"),
        ("我怎么申请税卡？", "zh"),
        ("¿Cómo consigo una tarjeta de impuestos?", "es"),
    ],
)
def test_detects_the_languages_we_serve(text: str, language: str):
    assert detect_language(text) == language


def test_uninformative_text_keeps_the_fallback():
    assert detect_language("ok", fallback="fi") == "fi"
    assert detect_language("", fallback="sv") == "sv"
    assert detect_language("ok", fallback="xx") == "en"


def extract(text: str, intent: str = "nlu_fallback", entities=(), metadata=None, **slots: Any):
    tracker = Tracker(
        sender_id="t",
        slots={"language": None, "language_chosen": None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent},
            "entities": list(entities),
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    events = asyncio.run(ActionValidateSlotMappings().run(CollectingDispatcher(), tracker, DOMAIN))
    return {e["name"]: e["value"] for e in events}


def test_slot_follows_the_message_language():
    assert extract("Miten saan verokortin?") == {"language": "fi"}
    assert extract("Kela", language="sv") == {"language": "sv"}


def test_page_language_is_the_first_fallback():
    assert extract("hej!", metadata={"language": "sv"})["language"] == "sv"
    assert extract("ok", metadata={"language": "fi"})["language"] == "fi"


def test_explicit_choice_wins_and_sticks():
    entities = [{"entity": "language", "value": "fi"}]
    chosen = extract("Can you answer in Finnish?", "change_language", entities)
    assert chosen == {"language": "fi", "language_chosen": True}
    assert extract("How do I get a tax card?", language="fi", language_chosen=True) == {}
