"""A stated nationality spares the citizenship question: over REST with the real servers."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ask, payload

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("sender", "question", "language", "organisation", "service"),
    [
        (
            "italian",
            "I'm Italian and moving to Helsinki, where do I register?",
            "en",
            "migri",  # EU citizens register their right of residence at Migri
            "migri.eu_registration",
        ),
        (
            "italian-ru",  # without the nationality, this one gets the citizenship question
            "Я итальянец и переезжаю в Хельсинки. Где зарегистрировать право на проживание?",
            "ru",
            "migri",
            "migri.eu_registration",
        ),
    ],
)
def test_a_stated_nationality_gets_a_direct_answer(
    stack, sender, question, language, organisation, service
):
    answer = payload(ask(stack, sender, question))
    assert answer["type"] == "service_answer", answer  # not "clarification"
    assert answer["language"] == language
    assert answer["organisations"][0]["id"] == organisation
    assert answer["services"][0]["id"] == service


def test_a_status_from_the_first_message_is_used_later(stack):
    ask(stack, "lagos", "Hello! We are coming from Lagos next month.")
    steps = payload(ask(stack, "lagos", "I just moved to Helsinki, what do I do?"))
    assert steps["type"] == "checklist", steps  # the same question without it asks the status
    assert steps["status"] == "non_eu"
    assert steps["organisations"][0]["id"] == "migri"  # a residence permit comes first
    assert steps["steps"][0].startswith("migri.residence_permit")
