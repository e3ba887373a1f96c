"""Dialogue over REST with the real servers: languages, clarification, fallback, checklist."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ask, payload

pytestmark = pytest.mark.e2e


def text_of(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies if "text" in r)


@pytest.mark.parametrize(
    ("question", "language", "organisation", "words"),
    [
        ("Miten saan verokortin?", "fi", "vero", ["Tätä hoitaa Verohallinto", "Virallinen sivu"]),
        ("Hur får jag ett skattekort?", "sv", "vero", ["Det här sköts av", "Officiell sida"]),
        ("Tarvitsen oleskeluluvan työhön", "fi", "migri", ["Maahanmuuttovirasto"]),
        ("Как получить налоговую карту?", "ru", "vero", ["Этим занимается", "Налоговая карточка"]),
        ("Finlandiya'da vergi kartını nasıl alırım?", "tr", "vero", ["Vergi kartı"]),
        ("Comment obtenir une carte fiscale en Finlande ?", "fr", "vero", ["Carte fiscale"]),
        ("كيف أحصل على البطاقة الضريبية في فنلندا؟", "ar", "vero", ["البطاقة الضريبية"]),
    ],
)
def test_answer_in_the_users_language(stack, question, language, organisation, words):
    """The whole answer, not only its frame, is in the user's language (issue 14)."""
    replies = ask(stack, f"lang-{language}-{organisation}", question)
    answer = payload(replies)
    assert answer["language"] == language
    assert answer["organisations"][0]["id"] == organisation
    for word in words:
        assert word in text_of(replies)
    assert "Tax card" not in text_of(replies) or language == "en"


def test_greeting_follows_the_page_language(stack):
    replies = ask(stack, "page-sv", "hi", language="sv")
    assert "Jag är Opastin" in text_of(replies)


def test_explicit_language_choice_sticks(stack):
    replies = ask(stack, "switch", "Can you answer in Finnish?")
    assert "vastaan suomeksi" in text_of(replies)
    answer = payload(ask(stack, "switch", "How do I get a tax card?"))
    assert answer["language"] == "fi" and answer["organisations"][0]["name"] == "Verohallinto"


def test_a_question_that_mentions_a_language_is_answered_not_taken_as_a_switch(stack):
    replies = ask(stack, "mention-en", "I'd like to talk to someone in English", language="fi")
    assert "I'll answer in English" not in text_of(replies)  # not the switch confirmation
    answer = payload(replies)
    # Searched as a question: human guidance at International House Helsinki, named or first
    # among the suggestions when the search is unsure.
    if answer["type"] == "no_answer":
        assert answer["suggestions"][0] == "ihh.general_guidance", answer
    else:
        assert answer["organisations"][0]["id"] == "ihh", answer


def test_a_language_we_do_not_answer_in_gets_english_not_a_third_language(stack):
    replies = ask(stack, "italian", "Come posso ottenere la carta fiscale in Finlandia?")
    answer = payload(replies)
    assert answer["language"] == "en"


def test_clarification_then_answer(stack):
    question = payload(ask(stack, "clarify", "I just moved to Helsinki, what do I do?"))
    assert question["type"] == "clarification" and question["slot"] == "residence_status"
    replies = ask(stack, "clarify", '/inform{"residence_status": "nordic"}')
    steps = payload(replies)
    assert steps["type"] == "checklist"
    assert steps["organisations"][0]["id"] == "dvv"  # Nordic citizens register at DVV
    assert "migri" not in steps["steps"][0]


def test_two_stage_fallback(stack):
    unclear = "the form thing for my situation"  # reaches the search, matches nothing well
    first = ask(stack, "fallback", unclear)
    assert payload(first)["reason"] == "low_confidence"
    assert any(r.get("buttons") for r in first), "suggestions come as buttons"
    second = payload(ask(stack, "fallback", unclear))
    assert second["type"] == "no_answer" and second["handoff"]["id"] == "ihh"


def test_gibberish_gets_a_polite_reply_naming_nobody(stack):
    answer = payload(ask(stack, "gibberish", "qwzx plorf blarg"))
    assert answer["type"] == "no_answer" and not answer.get("organisations")


@pytest.mark.parametrize(
    ("question", "authority"),
    [
        ("How do I exchange my foreign driving licence for a Finnish one?", "traficom"),
        ("Where do I apply for a Finnish identity card?", "police"),
    ],
)
def test_authorities_outside_the_ecosystem_are_redirected_as_such(stack, question, authority):
    replies = ask(stack, f"redirect-{authority}", question)
    answer = payload(replies)
    assert answer["redirect"] is True
    assert answer["organisations"][0]["id"] == authority
    assert "outside the newcomer services" in text_of(replies)


def test_the_purpose_of_the_move_steers_the_service(stack):
    """A purpose the user gave earlier (slot `purpose`) boosts services for that audience."""
    plain = payload(ask(stack, "purpose-none", "I need a residence permit"))
    ask(stack, "purpose-study", "I'm moving there to study")
    steered = payload(ask(stack, "purpose-study", "I need a residence permit"))
    assert steered["organisations"][0]["id"] == "migri"
    assert steered["services"][0]["id"] == "migri.residence_permit_studies"
    assert plain["services"][0]["id"] != "migri.residence_permit_studies"  # the purpose decided
