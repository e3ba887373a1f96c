"""The newcomer checklists name only services that exist in the real corpus."""

from __future__ import annotations

import pytest

from actions.checklist import checklists, steps_for
from knowledge.loader import load_corpus
from knowledge.vocabulary import vocabulary


@pytest.fixture(scope="module")
def corpus():
    """The real corpus, loaded once for the module (loading and validating it takes ~0.5 s)."""
    return load_corpus()


@pytest.mark.parametrize("status", vocabulary().residence_statuses)
@pytest.mark.parametrize("purpose", [None, *vocabulary().purposes])
def test_every_step_is_a_corpus_service(corpus, status, purpose):
    services = corpus.services
    steps = steps_for(status, purpose)
    assert steps, status
    assert [s for s in steps if s not in services] == []


def test_status_decides_who_registers_you():
    assert checklists().keys() == set(vocabulary().residence_statuses)
    assert steps_for("eu_eea", None)[0].startswith("migri.")  # EU registration at Migri
    assert steps_for("nordic", None)[0].startswith("dvv.")  # Nordic citizens: DVV, not Migri
    assert steps_for("non_eu", "study")[0] == "migri.residence_permit_studies"


def test_widget_checklist_links_are_labelled_and_plain_elsewhere(corpus):
    from actions.checklist import checklist

    widget = checklist(corpus, "nordic", None, "en", markdown=True).text
    plain = checklist(corpus, "nordic", None, "en").text
    assert "[dvv.fi](https://" in widget
    assert "](" not in plain and "https://" in plain
