"""Masking, feedback and export details: unit tests (accounts and sessions: test_auth.py)."""

from __future__ import annotations

import stat

import pytest
import yaml

from console.conversations import build_turns, feedback_sentiment
from console.export import annotated_text, build_export, export_name
from console.masking import mask_data, mask_text
from console.project import Project
from console.pseudonyms import Pseudonyms
from tests.console.conftest import MINI_CORPUS, Conversation, pseudonym


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("my hetu is 131052-308T.", "my hetu is <ID_CODE>."),
        ("born 2005: 010105A123B", "born 2005: <ID_CODE>"),
        ("new sign 010190Y123C and old 010190+1234", "new sign <ID_CODE> and old <ID_CODE>"),
        ("lower case 131052-308t", "lower case <ID_CODE>"),
        ("call +358 40 123 4567 now", "call <PHONE> now"),
        ("or 040-1234567, or 09 310 1234", "or <PHONE>, or <PHONE>"),
        ("(040) 123 45 67", "<PHONE>"),
        ("Swedish +46 70 123 45 67", "Swedish <PHONE>"),
        ("00358401234567", "<PHONE>"),
        ("write to maija.m+kela@example.co.uk!", "write to <EMAIL>!"),
        ("a@b.fi and c.d@e-f.com", "<EMAIL> and <EMAIL>"),
    ],
)
def test_personal_data_is_masked(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "postcode 00100 Helsinki",
        "on 12.03.2024 at 10",
        "I moved here in 2024 with 3 kids",
        "it costs 1200 euros",
        "Kela form SV 12 and room 0401",
        "ticket number 123456789",
        "see https://www.vero.fi/en/individuals/",
    ],
)
def test_ordinary_numbers_and_links_are_kept(text):
    assert mask_text(text) == text


def test_mask_data_reaches_nested_values():
    data = {"slots": {"email": "x@y.fi", "n": 3}, "list": ["040 1234567", None]}
    assert mask_data(data) == {"slots": {"email": "<EMAIL>", "n": 3}, "list": ["<PHONE>", None]}


@pytest.mark.parametrize(
    ("text", "metadata", "sentiment"),
    [
        ("that was wrong", None, "negative"),
        ("not helpful", None, "negative"),
        ("väärä vastaus", None, "negative"),
        ("ei auttanut", None, "negative"),
        ("det hjälpte inte", None, "negative"),
        ("Неправильный ответ", None, "negative"),
        ("great answer", None, "positive"),
        ("kiitos, tämä auttoi paljon", None, "positive"),
        ("hmm", None, "unknown"),
        ("great answer", {"feedback": "negative"}, "negative"),
        ("wrong", {"feedback": "up"}, "positive"),
    ],
)
def test_feedback_sentiment(text, metadata, sentiment):
    assert feedback_sentiment(text, metadata) == sentiment


def test_annotated_text_masks_around_entities_and_neutralises_brackets():
    user = {
        "raw_text": "I live in espoo [sic], call 040 1234567",
        "entities": [
            {"entity": "municipality", "start": 10, "end": 15, "value": "espoo"},
            {"entity": "not_in_domain", "start": 0, "end": 1, "value": "I"},
        ],
    }
    text = annotated_text(user, {"municipality"})
    assert text == "I live in [espoo](municipality) (sic), call <PHONE>"


def test_export_names_come_from_the_keyed_hash_only():
    telegram = pseudonym("telegram-123456789")
    assert export_name(telegram) == f"console_{telegram.replace('-', '_')}"
    assert "123456789" not in export_name(telegram)
    assert pseudonym("telegram-123456789") != pseudonym("telegram-123456780")
    for not_a_hash in ("../../etc/passwd", "telegram-123456789", "c-XYZ"):
        with pytest.raises(ValueError, match="not a conversation hash"):
            export_name(not_a_hash)


def test_the_hash_needs_the_key():
    other = Pseudonyms(b"another key, at least thirty-two bytes long")
    assert other.of("telegram-123456789") != pseudonym("telegram-123456789")
    with pytest.raises(ValueError, match="at least 32"):
        Pseudonyms(b"short")


def test_the_key_file_is_made_once_and_private(tmp_path):
    path = tmp_path / "var" / "sender.key"
    first = Pseudonyms.from_settings("", path).of("telegram-1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Pseudonyms.from_settings("", path).of("telegram-1") == first


def test_exported_fields_cannot_break_or_inject_yaml():
    """A client-sent metadata.language, odd action names and authors stay data, not YAML."""
    language = 'en"\n  orgs: [evil]\n- q: injected'
    events = (
        Conversation("telegram-123456789", 1.7e9)
        .user("tax card?", "greet", 0.5, metadata={"language": language})
        .action("utter_x\n      - action: injected")
        .events
    )
    project = Project(corpus_dir=MINI_CORPUS)
    turns = build_turns(events, raw=True)
    assert turns[1]["language"] is None  # not a language code: ignored
    conversation = pseudonym("telegram-123456789")
    export = build_export(conversation, turns, {0: {"organisation": "vero"}}, project)
    steps = yaml.safe_load(export.story)["stories"][0]["steps"]
    assert {"action": "utter_x\n      - action: injected"} in steps
    assert [s for s in steps if s.get("action") == "injected"] == []
    assert yaml.safe_load(export.questions) == [
        {"q": "tax card?", "lang": "und", "orgs": ["vero"], "tags": ["reviewed"]}
    ]
    corrected = {"intent": "tax_registration", "author": "a\n- user: injected"}
    again = build_export(conversation, turns, {0: corrected}, project)
    steps = yaml.safe_load(again.story)["stories"][0]["steps"]
    assert [s["user"] for s in steps if "user" in s] == ["tax card?"]
    assert "corrected by a - user: injected" in again.story
    for text in (export.story, export.questions, again.story, again.nlu or ""):
        assert "123456789" not in text


def test_export_with_a_corrected_intent_expects_the_rules_actions():
    events = (
        Conversation("web-x", 1.7e9)
        .user("hi there, how do I apply for a permit", "greet", 0.5)
        .utter("utter_greet", "Hi!")
        .events
    )
    project = Project(corpus_dir=MINI_CORPUS)
    turns = build_turns(events, raw=True)
    export = build_export(
        pseudonym("web-x"), turns, {0: {"intent": "residence_permit", "author": "a"}}, project
    )
    assert "      - action: action_answer_question" in export.story
    assert "utter_greet" not in export.story.split("steps:")[1]
    assert any("rules for residence_permit" in note for note in export.notes)
    assert "- hi there, how do I apply for a permit" in export.nlu
