"""An answer turn makes one action-server call; any other turn validates before its first action.

Rasa's own MessageProcessor methods (slot extraction, running actions, the prediction loop) run
with bot/policies/validation_in_call.py's replacements against a stand-in action server on
127.0.0.1 that records each call and answers as ours does (validation: the language slot; an
answer: the validation's events first when asked, then a reply). Predictions are scripted: the
policies are not what this tests. The real servers: tests/e2e.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import policies  # noqa: F401  (installs the replacements, as in the Rasa server)
import pytest
from aiohttp import web
from policies.validation_in_call import (
    VALIDATE_KEY,
    VALIDATES_IN_CALL,
    self_validating,
    validation_movable,
)
from rasa.core.actions.action import action_for_name_or_text
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from opastin.stack import BOT_DIR
from opastin.yaml_files import read_yaml
from tools.servers import free_port

DOMAIN_YAML = """
version: "3.1"
intents: [greet, tax_registration]
entities: [municipality]
slots:
  language:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
  municipality:
    type: text
    influence_conversation: false
    mappings: [{type: from_entity, entity: municipality}]
responses:
  utter_greet:
  - condition: [{type: slot, name: language, value: fi}]
    text: Hei!
  - text: Hello!
actions: [action_answer_question, action_change_language, action_validate_slot_mappings]
"""


class StandIn:
    """Records action-server calls; answers validation with language=fi, answers a question."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(body)
        name = body["next_action"]
        validation = [{"event": "slot", "name": "language", "value": "fi", "timestamp": None}]
        if name == "action_validate_slot_mappings":
            return web.json_response({"events": validation, "responses": []})
        latest = body["tracker"]["latest_message"]
        language = body["tracker"]["slots"].get("language")
        events = validation if latest.get(VALIDATE_KEY) else []
        if events:
            language = "fi"
        reply = {"text": f"answer in {language}"}
        return web.json_response({"events": events, "responses": [reply]})


@pytest.fixture
def stand_in() -> Iterator[tuple[StandIn, str]]:
    server = StandIn()
    app = web.Application()
    app.router.add_post("/webhook", server.webhook)
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    asyncio.set_event_loop(loop)
    yield server, f"http://127.0.0.1:{port}/webhook"
    loop.run_until_complete(runner.cleanup())
    loop.close()
    asyncio.set_event_loop(None)


def processor(domain: Domain, url: str, script: list[str]) -> MessageProcessor:
    """Rasa's processor without a model: its own methods, the predictions from `script`."""
    bare = object.__new__(MessageProcessor)
    bare.domain = domain
    bare.action_endpoint = EndpointConfig(url, **{VALIDATES_IN_CALL: ["action_answer_question"]})
    bare.nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    names = iter(script)

    def predict(tracker: DialogueStateTracker) -> tuple[Any, PolicyPrediction]:
        name = next(names)
        action = action_for_name_or_text(name, domain, bare.action_endpoint)
        return action, PolicyPrediction([1.0], "scripted")

    bare.predict_next_with_tracker_if_should = predict  # type: ignore[method-assign]
    return bare


def user_turn(
    domain: Domain, text: str, intent: str, entities: list[dict[str, Any]] | None = None
) -> DialogueStateTracker:
    """A conversation whose latest event is the user's message, as after the NLU."""
    parse = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities}
    events = [
        ActionExecuted("action_listen"),
        UserUttered(text, parse["intent"], entities or [], parse_data=parse),
    ]
    return DialogueStateTracker.from_events("user-1", events, slots=domain.slots)


def handle(bare: MessageProcessor, tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """What MessageProcessor.handle_message does after the NLU: extract, then predict and run."""
    channel = CollectingOutputChannel()

    async def turn() -> None:
        await bare.run_action_extract_slots(channel, tracker)
        await bare._run_prediction_loop(channel, tracker)

    asyncio.get_event_loop().run_until_complete(turn())
    return channel.messages


def test_an_answer_turn_makes_one_call_that_validates_first(stand_in):
    server, url = stand_in
    domain = Domain.from_yaml(DOMAIN_YAML)
    espoo = {"entity": "municipality", "value": "espoo", "start": 22, "end": 30}
    tracker = user_turn(domain, "Miten saan verokortin Espoossa?", "tax_registration", [espoo])
    messages = handle(processor(domain, url, ["action_answer_question", "action_listen"]), tracker)
    assert [call["next_action"] for call in server.calls] == ["action_answer_question"]
    assert server.calls[0]["tracker"]["latest_message"][VALIDATE_KEY] is True
    # Rasa's own extraction from the entity still happened before the call.
    assert server.calls[0]["tracker"]["slots"]["municipality"] == "espoo"
    assert [m["text"] for m in messages] == ["answer in fi"]
    assert tracker.get_slot("language") == "fi"
    assert tracker.get_slot("municipality") == "espoo"
    names = [getattr(e, "action_name", None) or e.type_name for e in tracker.events]
    # RemoteAction puts the reply before the events (as for every answer).
    assert names[-4:] == ["action_answer_question", "bot", "slot", "action_listen"]


def test_a_greeting_validates_before_its_response_and_speaks_the_validated_language(stand_in):
    server, url = stand_in
    domain = Domain.from_yaml(DOMAIN_YAML)
    tracker = user_turn(domain, "moi", "greet")
    messages = handle(processor(domain, url, ["utter_greet", "action_listen"]), tracker)
    assert [call["next_action"] for call in server.calls] == ["action_validate_slot_mappings"]
    assert VALIDATE_KEY not in server.calls[0]["tracker"]["latest_message"]
    assert [m["text"] for m in messages] == ["Hei!"]
    names = [getattr(e, "action_name", None) or e.type_name for e in tracker.events]
    assert names[-4:] == ["slot", "utter_greet", "bot", "action_listen"]


def test_another_custom_action_gets_the_validation_call_before_its_own(stand_in):
    server, url = stand_in
    domain = Domain.from_yaml(DOMAIN_YAML)
    tracker = user_turn(domain, "suomeksi", "greet")
    handle(processor(domain, url, ["action_change_language", "action_listen"]), tracker)
    assert [c["next_action"] for c in server.calls] == [
        "action_validate_slot_mappings",
        "action_change_language",
    ]
    assert server.calls[1]["tracker"]["slots"]["language"] == "fi"
    assert VALIDATE_KEY not in server.calls[1]["tracker"]["latest_message"]


def test_a_turn_that_runs_no_action_still_validates(stand_in):
    server, url = stand_in
    domain = Domain.from_yaml(DOMAIN_YAML)
    tracker = user_turn(domain, "moi", "greet")
    tracker._paused = True  # Rasa runs no action in a paused conversation
    assert handle(processor(domain, url, []), tracker) == []
    assert [c["next_action"] for c in server.calls] == ["action_validate_slot_mappings"]
    assert tracker.get_slot("language") == "fi"


def test_a_slot_that_steers_the_dialogue_keeps_rasas_own_order(stand_in):
    server, url = stand_in
    steering = DOMAIN_YAML.replace(
        "type: text\n    influence_conversation: false\n    mappings: [{type: custom}]",
        "type: text\n    influence_conversation: true\n    mappings: [{type: custom}]",
    )
    domain = Domain.from_yaml(steering)
    assert not validation_movable(domain)
    tracker = user_turn(domain, "Miten saan verokortin?", "tax_registration")
    handle(processor(domain, url, ["action_answer_question", "action_listen"]), tracker)
    assert [c["next_action"] for c in server.calls] == [
        "action_validate_slot_mappings",
        "action_answer_question",
    ]
    assert VALIDATE_KEY not in server.calls[1]["tracker"]["latest_message"]


def test_the_projects_domain_allows_moving_the_call_and_both_endpoint_files_ask_for_it():
    assert validation_movable(Domain.load(str(BOT_DIR / "domain.yml")))
    for path in (BOT_DIR / "endpoints.yml", BOT_DIR.parent / "deploy" / "endpoints.yml"):
        endpoint = read_yaml(Path(path))["action_endpoint"]
        config = EndpointConfig(
            endpoint["url"], **{k: v for k, v in endpoint.items() if k != "url"}
        )
        assert self_validating(config) == {"action_answer_question"}, path


def test_without_the_setting_rasa_validates_at_once(stand_in):
    server, url = stand_in
    domain = Domain.from_yaml(DOMAIN_YAML)
    bare = processor(domain, url, ["action_answer_question", "action_listen"])
    bare.action_endpoint = EndpointConfig(url)
    assert self_validating(bare.action_endpoint) == frozenset()
    handle(bare, user_turn(domain, "Miten saan verokortin?", "tax_registration"))
    assert [c["next_action"] for c in server.calls] == [
        "action_validate_slot_mappings",
        "action_answer_question",
    ]
    assert json.dumps(server.calls).count(VALIDATE_KEY) == 0
