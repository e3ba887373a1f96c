"""Typo repair: one edit to a corpus word, only for unknown words, only as a second chance."""

from __future__ import annotations

from embeddings.search import SearchEngine
from embeddings.spelling import SpellingRepair
from tests.conftest import MINI_CORPUS

REPAIR = SpellingRepair(["Kela: child benefit application. Apply for child benefit online."])


def test_unknown_words_one_edit_away_are_repaired():
    assert REPAIR.repair("benifit aplication?") == "benefit application?"  # substitution, insertion
    assert REPAIR.repair("chidl benefti") == "child benefit"  # transpositions
    assert REPAIR.repair("Aplly online") == "apply online"


def test_known_short_and_distant_words_are_left_alone():
    assert REPAIR.repair("child benefit") == "child benefit"
    assert REPAIR.repair("chld kela") == "chld kela"  # shorter than five letters
    assert REPAIR.repair("bnfit 2025") == "bnfit 2025"  # two edits away; numbers stay


def test_a_misspelt_question_is_answered_on_the_second_chance(mini_index, encoder):
    repaired = SearchEngine(mini_index, MINI_CORPUS, encoder, threshold=0.83)
    plain = SearchEngine(mini_index, MINI_CORPUS, encoder, threshold=0.83, repair_typos=False)
    assert not plain.search("resdence permmit").answered
    result = repaired.search("resdence permmit")
    assert result.answered and result.responsible[0].organisation.id == "migri"
    assert result.query == "resdence permmit" and result.searched == "residence permit"


def test_an_answerable_question_is_searched_as_written(mini_engine):
    result = mini_engine.search("persnal identiy code")
    assert result.answered and result.searched == "persnal identiy code"
