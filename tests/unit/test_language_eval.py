"""The language evaluation's counting and reading (tools/eval/language.py); no detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.eval.language import (
    Labelled,
    answered,
    evaluate,
    first_message_right,
    labelled_set,
    nlu_texts,
    question_texts,
    table,
)

ANSWERED = ("en", "fi", "es")


def test_a_language_we_do_not_answer_in_is_answered_in_the_default():
    assert answered("fi", ANSWERED, "en") == "fi"
    assert answered("pt", ANSWERED, "en") == "en"
    assert answered(None, ANSWERED, "en") is None


def test_decisions_are_right_kept_or_wrong_per_language_and_length():
    texts = [
        Labelled("Miten saan verokortin?", "fi", "t"),  # long; new right, old kept
        Labelled("Kela", "fi", "t"),  # short; new kept, old wrong (sv)
        Labelled("Como faço isso agora", "pt", "t"),  # long; pt -> answered in en
        Labelled("¿Dónde está Kela?", "es", "t"),  # long; new wrong (pt -> en), old right
    ]
    new = {texts[0].text: "fi", texts[1].text: None, texts[2].text: "pt", texts[3].text: "pt"}
    old = {texts[0].text: None, texts[1].text: "sv", texts[2].text: "en", texts[3].text: "es"}
    rows = evaluate(texts, new.get, old.get, ANSWERED, "en")
    assert [row.language for row in rows] == ["fi", "pt", "es", "ALL"]
    fi, pt, es, total = rows
    assert (fi.new["long"].right, fi.old["long"].kept) == (1, 1)
    short = fi.new["short"]
    assert (short.kept, fi.old["short"].wrong, short.same_as_before) == (1, 1, 0)
    assert pt.new["long"].right == 1 and pt.new["long"].same_as_before == 1
    assert es.new["long"].wrong == 1 and es.old["long"].right == 1
    assert (total.new["long"].n, total.new["long"].right, total.new["long"].wrong) == (3, 2, 1)
    printed = table(rows)
    assert "| fi | long | 1 | 100.0 (0.0) | 0.0 (100.0) | 0.0 (0.0) | 0.0 |" in printed
    assert "| ALL | all | 4 | 50.0 (50.0) | 25.0 (25.0) | 25.0 (25.0) | 25.0 |" in printed


def test_questions_need_a_language(tmp_path: Path):
    good = tmp_path / "good.yaml"
    good.write_text('- q: "tax card"\n  lang: en\n  orgs: [vero]\n')
    assert question_texts(good) == [Labelled("tax card", "en", "good.yaml")]
    bad = tmp_path / "bad.yaml"
    bad.write_text('- q: "tax card"\n  orgs: [vero]\n')
    with pytest.raises(ValueError, match="item 1 needs `q` and `lang`"):
        question_texts(bad)


def test_nlu_texts_carry_their_file_language(tmp_path: Path):
    nlu = "nlu:\n- intent: ask\n  examples: |\n    - var är [FPA](org)\n"
    (tmp_path / "sv.yml").write_text(nlu)
    assert nlu_texts(tmp_path, ["sv"]) == [Labelled("var är FPA", "sv", "sv.yml")]


def test_a_first_message_the_detector_is_not_sure_of_is_answered_in_the_default():
    texts = [
        Labelled("Kela", "en", "t"),  # not sure: English, right
        Labelled("Kela", "fi", "t"),  # not sure: English, wrong
        Labelled("olá", "pt", "t"),  # Portuguese: answered in English, right
        Labelled("hej", "fi", "t"),  # Swedish for Finnish: wrong
    ]
    decide = {"Kela": None, "olá": "pt", "hej": "sv"}.get
    assert first_message_right(texts, decide) == 2


@pytest.mark.parametrize("name", ["short_tune", "short_holdout"])
def test_the_short_first_message_sets_are_read(name):
    texts = labelled_set(name)
    assert len(texts) > 100 and {t.source for t in texts} == {f"language_{name}.yaml"}
