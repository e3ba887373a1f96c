"""The staff-labelled question set (evaluation/annotated.yaml): its shape, and the check that
tests/eval/test_annotated_questions.py applies to each question."""

from __future__ import annotations

from knowledge.loader import load_corpus
from opastin.config import Settings
from tools.eval.retrieval import ANNOTATED_SET, Outcome, Question, load_questions, misanswered


def test_the_labelled_set_loads_and_names_corpus_organisations():
    questions = load_questions(ANNOTATED_SET)
    known = set(load_corpus(Settings().corpus_dir, translations=False).organisations)
    for question in questions:
        assert set(question.orgs) <= known, question
        assert "annotated" in question.tags and question.lang


def test_misanswered_names_each_way_a_labelled_question_goes_wrong():
    tax = Question("how do I get a tax card", "en", ("vero",))
    joke = Question("tell me a joke", "en", ())
    assert misanswered(Outcome(tax, ["vero", "dvv"], 0.9), 0.84) is None
    assert misanswered(Outcome(tax, ["dvv", "vero"], 0.9), 0.84) == (
        "answered with dvv; expected vero"
    )
    assert "not answered (0.500 < 0.84)" in misanswered(Outcome(tax, ["vero"], 0.5), 0.84)
    assert misanswered(Outcome(joke, ["vero"], 0.5), 0.84) is None
    assert "out of scope" in misanswered(Outcome(joke, ["vero"], 0.9), 0.84)
