"""Search ranks services, aggregates organisations, applies filters and the threshold."""

from __future__ import annotations

import shutil
import time

import pytest

from embeddings.index import build_index
from embeddings.search import Filters, SearchEngine, adjusted
from tests.conftest import MINI_CORPUS


@pytest.mark.parametrize(
    ("query", "organisation"),
    [
        ("How do I get a tax card?", "vero"),
        ("verokortti", "vero"),
        ("skattekort", "vero"),
        ("I need a residence permit", "migri"),
        ("I am looking for a job", "employment_services"),
        ("what is my social security number", "dvv"),
    ],
)
def test_finds_the_responsible_organisation(mini_engine: SearchEngine, query, organisation):
    result = mini_engine.search(query)
    assert result.answered
    assert result.responsible[0].organisation.id == organisation
    assert result.services[0].service.organisation_id == organisation


def test_results_are_sorted_and_grouped(mini_engine: SearchEngine):
    result = mini_engine.search("tax card", k=4)
    scores = [hit.score for hit in result.services]
    assert scores == sorted(scores, reverse=True)
    assert len({hit.service.id for hit in result.services}) == len(result.services)
    assert result.organisations[0].organisation.id == "vero"
    assert result.confidence == result.services[0].score


def test_below_threshold_names_nobody(mini_engine: SearchEngine):
    result = mini_engine.search("recommend a pizza place with good reviews")
    assert not result.answered
    assert result.responsible == []


def test_filters_adjust_scores(mini_engine: SearchEngine):
    service = mini_engine.corpus.services["migri.residence_permit_work"]
    base = adjusted(0.8, service, Filters())
    assert adjusted(0.8, service, Filters(status="non_eu")) > base
    assert adjusted(0.8, service, Filters(status="eu_eea")) < base
    # a service for exactly the user's status gains more than one shared by two statuses
    shared = service.model_copy(update={"audience": ["eu_eea", "non_eu", "worker"]})
    exclusive_gain = adjusted(0.8, service, Filters(status="non_eu")) - base
    shared_gain = adjusted(0.8, shared, Filters(status="non_eu")) - adjusted(0.8, shared, Filters())
    assert exclusive_gain > shared_gain > 0
    assert adjusted(0.8, service, Filters(organisation_hints=("migri",))) > base
    assert adjusted(0.8, service, Filters(municipality="espoo")) == base  # service is for all
    assert adjusted(0.8, service, Filters(purpose="work")) > base  # audience: worker
    assert adjusted(0.8, service, Filters(purpose="study")) == base  # a boost, never a penalty


@pytest.mark.slow
def test_new_index_is_picked_up_without_restart(tmp_path, encoder):
    corpus = tmp_path / "corpus"
    shutil.copytree(MINI_CORPUS, corpus)
    index = tmp_path / "index"
    build_index(corpus, index, encoder)
    engine = SearchEngine(index, corpus, encoder)
    assert engine.search("tax card").services[0].service.title["en"] == "Tax card"
    vero = corpus / "vero.yaml"
    vero.write_text(
        vero.read_text().replace("title: {en: Tax card,", "title: {en: Tax card (new),")
    )
    time.sleep(0.01)  # a distinct manifest mtime
    build_index(corpus, index, encoder)
    assert engine.search("tax card").services[0].service.title["en"] == "Tax card (new)"


def test_lexical_ranker_matches_inflected_words():
    from embeddings.lexical import LexicalRanker, tokens

    assert "verok~" in tokens("verokortin") and "verok~" in tokens("Verokortti")
    assert tokens("税卡") == ["税", "卡"]
    ranker = LexicalRanker(["verokortti verohallinto", "oleskelulupa", "tax card"])
    scores = ranker.scores("miten saan verokortin")
    assert scores.argmax() == 0 and scores.max() == 1.0
    assert not ranker.scores("zzz").any()


def test_hybrid_search_keeps_dense_confidence(mini_index, encoder):
    dense = SearchEngine(mini_index, MINI_CORPUS, encoder, threshold=0.83)
    hybrid = SearchEngine(mini_index, MINI_CORPUS, encoder, threshold=0.83, lexical_weight=0.05)
    a, b = dense.search("verokortti"), hybrid.search("verokortti")
    assert b.services[0].service.id == "vero.tax_card"
    assert b.confidence == pytest.approx(a.confidence)  # the bonus reorders, never inflates


@pytest.mark.slow
def test_approximate_hnsw_index_is_selectable(tmp_path, encoder):
    index = tmp_path / "hnsw"
    manifest = build_index(MINI_CORPUS, index, encoder, kind="hnsw")
    assert manifest.kind == "hnsw"
    engine = SearchEngine(index, MINI_CORPUS, encoder, threshold=0.83)
    assert type(engine.loaded.index).__name__ == "IndexHNSWFlat"
    assert engine.search("How do I get a tax card?").responsible[0].organisation.id == "vero"


def test_lexical_ranker_ignores_question_words():
    from embeddings.lexical import LexicalRanker, tokens

    assert tokens("How do I get a tax card?") == ["tax", "card"]
    ranker = LexicalRanker(["Tax card. How do I get a tax card?", "ID card. Finnish ID card"])
    # With question words counted, the passage phrased as a question won on "how do I get".
    assert ranker.scores("How do I get a Finnish ID card?").argmax() == 1


def test_exact_alias_is_answered_even_when_its_embedding_is_weak(mini_index, encoder):
    from embeddings.search import alias_key

    strict = SearchEngine(mini_index, MINI_CORPUS, encoder, threshold=0.99)
    assert alias_key("  Hetu?! ") == "hetu"
    for query in ("hetu", "Hetu?", "HENKILÖTUNNUS"):
        result = strict.search(query)
        assert result.answered, query
        assert result.responsible[0].organisation.id == "dvv"
        assert result.confidence >= strict.threshold
    # Only word for word: anything more goes through the threshold as usual.
    assert not strict.search("hetu please").answered
    # An alias that two organisations list decides nothing.
    assert not strict.search("I want to move to Helsinki").answered
