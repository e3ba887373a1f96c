"""Masking, feedback and export details: unit tests (accounts and sessions: test_auth.py)."""

from __future__ import annotations

import pytest

from console.conversations import build_turns, feedback_sentiment
from console.export import annotated_text, build_export, export_name
from console.masking import mask_data, mask_text
from console.project import Project
from tests.console.conftest import MINI_CORPUS, Conversation


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


def test_export_names_are_safe_and_distinct():
    assert export_name("../../etc/passwd") != export_name("../../etc/passwd2")
    name = export_name("../../etc/passwd")
    assert "/" not in name and name.startswith("console_etc_passwd_")


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
        "web-x", turns, {0: {"intent": "residence_permit", "author": "a"}}, project
    )
    assert "      - action: action_answer_question" in export.story
    assert "utter_greet" not in export.story.split("steps:")[1]
    assert any("rules for residence_permit" in note for note in export.notes)
    assert "- hi there, how do I apply for a permit" in export.nlu
