"""Reading NLU files: one reader for the action server, console, benchmarks and evaluations."""

from __future__ import annotations

import pytest

from opastin.nlu_text import NluFileError, labelled_examples, nlu_examples, strip_annotations


def test_a_missing_nlu_file_is_a_clear_error(tmp_path):
    with pytest.raises(NluFileError, match=r"xx\.yml: NLU examples not found"):
        nlu_examples(tmp_path / "xx.yml")


def test_examples_come_with_their_intent_and_without_annotations_as_typed(tmp_path):
    (tmp_path / "en.yml").write_text(
        'nlu:\n- intent: ask\n  examples: |\n    - I live in [Espoo]{"entity": "municipality"}\n'
        "    - [Vantaa](municipality) please \n"
        "- synonym: espoo\n  examples: |\n    - Esbo\n"
    )
    assert labelled_examples(tmp_path / "en.yml") == [
        ("ask", 'I live in [Espoo]{"entity": "municipality"}'),
        ("ask", "[Vantaa](municipality) please"),
    ]
    assert nlu_examples(tmp_path / "en.yml") == ["I live in Espoo", "Vantaa please"]
    assert strip_annotations("in [Esbo](municipality)") == "in Esbo"
