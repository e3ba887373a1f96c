"""The answer action on tracker fixtures (as rasa-demo tests actions), over the fixture index."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import answer_question
from actions.answer_question import ActionAnswerQuestion
from actions.log_privacy import describe_message


def tracker(
    text: str, intent: str = "nlu_fallback", channel: str | None = None, **slots: Any
) -> Tracker:
    empty = (
        "language",
        "municipality",
        "residence_status",
        "purpose",
        "pending_question",
        "misses",
        "last_question",
    )
    return Tracker(
        sender_id="test-user",
        slots={**dict.fromkeys(empty), **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "metadata": {},
        },
        events=[{"event": "user", "text": text, "input_channel": channel}] if channel else [],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture(autouse=True)
def use_mini_engine(monkeypatch, mini_engine):
    monkeypatch.setattr(answer_question, "get_engine", lambda: mini_engine)


def run(text: str, **kwargs: Any) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    action = ActionAnswerQuestion().run(dispatcher, tracker(text, **kwargs), domain={})
    events = asyncio.run(action)
    return dispatcher.messages, events


def slots(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_answer_names_organisation_and_sends_payload():
    messages, events = run("How do I get a tax card?", intent="tax_registration")
    [message] = messages
    custom = message["custom"]
    assert custom["type"] == "service_answer"
    assert custom["organisations"][0] == {
        "id": "vero",
        "name": "Finnish Tax Administration",
        "url": "https://www.vero.fi/en/",
    }
    assert custom["services"][0]["id"] == "vero.tax_card"
    assert custom["language"] == "en"
    assert message["text"].startswith("Finnish Tax Administration handles this: Tax card.")
    assert "International House Helsinki" in message["text"]  # vero.tax_card is served at IHH
    assert "Official page: https://www.vero.fi/" in message["text"]
    # pending_question is already None: only the slots whose value changes are set
    assert events == [
        {"event": "slot", "timestamp": None, "name": "language", "value": "en"},
        {"event": "slot", "timestamp": None, "name": "misses", "value": 0.0},
        {
            "event": "slot",
            "timestamp": None,
            "name": "last_question",
            "value": "How do I get a tax card?",
        },
    ]


def test_widget_answers_use_markdown_and_other_channels_plain_text():
    [widget] = run("How do I get a tax card?", intent="tax_registration", channel="socketio")[0]
    [rest] = run("How do I get a tax card?", intent="tax_registration", channel="rest")[0]
    assert widget["text"].startswith("**Finnish Tax Administration** handles this: Tax card.")
    assert "Official page: [vero.fi](https://www.vero.fi/" in widget["text"]
    assert "**" not in rest["text"] and "](" not in rest["text"]
    assert widget["custom"] == rest["custom"]  # the payload never changes with the channel


def test_answer_in_the_users_language():
    [message], _ = run("Miten saan verokortin?")
    assert message["custom"]["language"] == "fi"
    assert message["text"].startswith("Tätä hoitaa Verohallinto: Verokortti.")
    assert "Virallinen sivu:" in message["text"]


def test_service_not_at_ihh_does_not_claim_it():
    [message], _ = run("I need a residence permit")
    assert message["custom"]["organisations"][0]["id"] == "migri"
    assert "International House Helsinki" not in message["text"]  # at_ihh is unverified


def test_answer_uses_the_language_slot():
    [message], events = run("tax card", language="sv")
    assert message["custom"]["language"] == "sv"
    assert message["text"].startswith("Det här sköts av Skatteförvaltningen: Skattekort.")
    assert "language" not in slots(events), "the slot already says sv: not set again"


def test_the_next_answer_sets_only_the_question():
    """A later answer in the same language, nothing pending and no misses: one event (the
    question) instead of four; Rasa keeps and replays every event for the rest of the talk."""
    _, events = run(
        "How do I get a tax card?",
        intent="tax_registration",
        language="en",
        pending_question=None,
        misses=0.0,
        last_question="Where do I register?",
    )
    assert slots(events) == {"last_question": "How do I get a tax card?"}
    _, again = run("How do I get a tax card?", language="en", misses=0.0, last_question=None)
    assert slots(again) == {"last_question": "How do I get a tax card?"}


def test_a_slot_is_set_when_its_value_or_its_type_changes():
    given = tracker("x", language="en", misses=0, pending_question="q")
    changes = answer_question.slot_changes(
        given, {"language": "en", "misses": 0.0, "pending_question": None}
    )
    assert [(e["name"], e["value"]) for e in changes] == [
        ("misses", 0.0),
        ("pending_question", None),
    ]


def test_fixed_parts_in_other_languages_with_english_details():
    [message], _ = run("tax card", language="ru")
    assert message["text"].startswith("Этим занимается Finnish Tax Administration: Tax card.")
    assert "(Подробности на английском языке.)" in message["text"]
    assert "Официальная страница: https://www.vero.fi/" in message["text"]


def test_first_miss_asks_to_rephrase_with_suggestions():
    [message], events = run("recommend a pizza place with good reviews")
    custom = message["custom"]
    assert custom["type"] == "no_answer" and custom["reason"] == "low_confidence"
    assert "organisations" not in custom
    assert "other words" in message["text"]
    assert len(message["buttons"]) == 3 and len(custom["suggestions"]) == 3
    assert slots(events)["misses"] == 1.0


def test_second_miss_offers_human_help_at_ihh():
    [message], events = run("recommend a pizza place with good reviews", misses=1.0)
    custom = message["custom"]
    assert custom["type"] == "no_answer"
    assert custom["handoff"]["id"] == "ihh" and "organisations" not in custom
    assert "https://ihhelsinki.fi/" in message["text"]
    assert slots(events)["misses"] == 0.0


def test_asks_status_only_when_it_changes_the_answer():
    [message], events = run("register my stay")
    assert message["custom"]["type"] == "clarification"
    assert message["custom"]["slot"] == "residence_status"
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == '/inform{"residence_status": "eu_eea"}'
    assert slots(events)["pending_question"] == "register my stay"
    # A question whose answer does not depend on status is answered at once.
    [direct], _ = run("How do I get a tax card?")
    assert direct["custom"]["type"] == "service_answer"


def test_clarification_answer_resumes_the_pending_question():
    pending = "register my stay"
    [nordic], events = run(
        "/inform", intent="inform", pending_question=pending, residence_status="nordic"
    )
    assert nordic["custom"]["organisations"][0]["id"] == "dvv"
    assert nordic["custom"]["services"][0]["id"] == "dvv.nordic_registration"
    assert slots(events)["pending_question"] is None
    [eu], _ = run("/inform", intent="inform", pending_question=pending, residence_status="eu_eea")
    assert eu["custom"]["services"][0]["id"] == "migri.eu_registration"


def test_asks_municipality_when_local_services_differ():
    [message], _ = run("unemployment office near me")
    assert message["custom"]["slot"] == "municipality"
    [espoo], _ = run(
        "/inform",
        intent="inform",
        pending_question="unemployment office near me",
        municipality="espoo",
    )
    assert espoo["custom"]["services"][0]["id"] == "employment_services.espoo"


def test_checklist_asks_status_then_lists_steps_in_order(monkeypatch):
    from actions import checklist

    monkeypatch.setattr(
        checklist,
        "checklists",
        lambda: {"eu_eea": ["migri.eu_registration", "dvv.registration", "vero.tax_card"]},
    )
    [question], events = run("I just moved here, what do I do?", intent="newcomer_checklist")
    assert question["custom"]["type"] == "clarification"
    pending = slots(events)["pending_question"]
    [steps], _ = run(
        "/inform", intent="inform", pending_question=pending, residence_status="eu_eea"
    )
    lines = steps["text"].splitlines()
    assert lines[1].startswith("1. Registration of an EU citizen's right of residence")
    assert lines[2].startswith("2. Personal identity code") and lines[3].startswith("3. Tax card")
    assert [o["id"] for o in steps["custom"]["organisations"]] == ["migri", "dvv", "vero"]


def test_correcting_a_detail_answers_the_last_question_again(monkeypatch):
    from actions import checklist

    monkeypatch.setattr(
        checklist,
        "checklists",
        lambda: {"eu_eea": ["migri.eu_registration"], "nordic": ["dvv.nordic_registration"]},
    )
    [eu], events = run(
        "/inform",
        intent="inform",
        pending_question=answer_question.CHECKLIST,
        residence_status="eu_eea",
    )
    assert eu["custom"]["organisations"][0]["id"] == "migri"
    last = slots(events)["last_question"]
    [nordic], _ = run(
        "sorry, I'm a Nordic citizen",
        intent="inform",
        last_question=last,
        residence_status="nordic",
    )
    assert nordic["custom"]["type"] == "checklist"
    assert nordic["custom"]["organisations"][0]["id"] == "dvv"


def test_an_outdated_name_gets_todays_organisation_and_what_changed():
    [message], _ = run(
        "Where is the TE office? I lost my job", language="en", municipality="helsinki"
    )
    custom = message["custom"]
    assert custom["type"] == "service_answer", message["text"]
    assert custom["organisations"][0]["id"] == "employment_services"
    assert custom["outdated_terms"] == ["te_office"]
    assert "TE offices closed at the start of 2025" in message["text"]
    [message], _ = run("How do I get a tax card?", language="en")
    assert message["custom"]["outdated_terms"] == []


def test_a_broad_question_gets_the_best_service_and_the_way_to_the_others():
    """A broad question names the organisation's best service and offers its close others."""
    [message], _ = run("population register", language="en")
    assert message["custom"]["type"] == "service_answer", message["text"]
    first, second = message["custom"]["services"][:2]
    assert first["organisation"] == second["organisation"] == "dvv"
    assert f"You can also ask me more precisely about: {second['title']}." in message["text"]
    [specific], _ = run("How do I get a tax card?", language="en")
    assert "more precisely" not in specific["text"]


def test_the_users_text_stays_out_of_logs_at_info(caplog):
    text = "My code is 131052-308T, how do I get a tax card?"
    with caplog.at_level(logging.INFO):
        run(text, intent="tax_registration")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert f"search <{len(text)} chars #" in logged  # the search is still traceable
    for fragment in ("131052", "308T", "tax card", "My code"):
        assert fragment not in logged


def test_log_fingerprints_link_equal_messages_only():
    assert describe_message("131052-308T") == describe_message("131052-308T")
    assert describe_message("131052-308T") != describe_message("131052-308U")


def test_a_broad_question_the_nlu_places_surely_is_answered_by_that_organisation():
    """Unsure search, sure intent: the organisation the intent points to answers (when one
    of its services is among the results); without the intent it stays a rephrase."""
    question = "I want to work"
    [unsure], _ = run(question, municipality="helsinki")
    assert unsure["custom"]["type"] == "no_answer"
    [placed], _ = run(question, intent="job_search", municipality="helsinki")
    assert placed["custom"]["type"] == "service_answer", placed["text"]
    assert placed["custom"]["organisations"][0]["id"] == "employment_services"


def test_validation_postponed_into_the_call_runs_first_and_sets_the_language():
    """Rasa moved the slot validation into this call (bot/policies/validation_in_call.py): the
    language the validation detects is the answer's, and its events come first."""
    from opastin.stack import BOT_DIR
    from opastin.yaml_files import read_yaml

    domain = {"slots": read_yaml(BOT_DIR / "domain.yml")["slots"]}
    question = "Miten saan verokortin?"
    for validate, language in ((True, "fi"), (False, "en")):
        asked = tracker(question, intent="tax_registration", language="en")
        if validate:
            asked.latest_message[answer_question.VALIDATE_KEY] = True
        dispatcher = CollectingDispatcher()
        events = asyncio.run(ActionAnswerQuestion().run(dispatcher, asked, domain=domain))
        assert dispatcher.messages[0]["custom"]["language"] == language
        # The validation's language comes first; the answer does not set it again.
        languages = [e["value"] for e in events if e["name"] == "language"]
        assert languages == (["fi"] if validate else [])
        assert (events[0]["name"] == "language") is validate
