"""Outdated names (knowledge/outdated_terms.yaml): found in many languages, explained with what
changed in the user's language, never at the cost of a number or name."""

from __future__ import annotations

import pytest

from actions.outdated_terms import outdated_terms, terms_in
from knowledge.translations import lost_parts
from knowledge.vocabulary import vocabulary


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Where is the TE office in Vantaa?", "te_office"),
        ("pitääkö mennä TE-toimistoon", "te_office"),
        ("как зарегистрироваться в ТЕ-офисе", "te_office"),
        ("Muutin, pitääkö ilmoittaa maistraattiin?", "maistraatti"),
        ("нужно ли идти в магистрат после переезда", "maistraatti"),
        ("Do I get my residence permit from the police?", "police_permits"),
        ("где в полиции продлить вид на жительство", "police_permits"),
        ("How do I get a social security number?", "social_security_number"),
        ("¿Cómo consigo el número de seguridad social?", "social_security_number"),
    ],
)
def test_outdated_names_are_found_as_people_write_them(text: str, term: str):
    assert [t.term.id for t in terms_in(text)] == [term]


@pytest.mark.parametrize(
    "text",
    ["How do I get a tax card?", "I lost my passport, police?", "team office hours", "steward"],
)
def test_ordinary_questions_name_no_outdated_term(text: str):
    assert terms_in(text) == []


def test_every_line_is_in_every_answered_language_and_keeps_years_and_names():
    for item in outdated_terms():
        assert set(vocabulary().languages.answered) <= set(item.term.note)
        english = item.term.note["en"]
        for language, line in item.term.note.items():
            assert not lost_parts(english, line), (
                item.term.id,
                language,
                lost_parts(english, line),
            )
