"""The outage policy on real trackers and the project's domain: the polite reply after a
watched action that produced nothing, and no opinion otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from policies.action_server_outage import ActionServerOutagePolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

RESPONSE = "utter_service_unavailable"
QUESTION = [
    ActionExecuted("action_listen"),
    UserUttered("How do I get a tax card?", intent={"name": "ask_question", "confidence": 0.9}),
]


def make_policy(tmp_path: Path, **config: object) -> ActionServerOutagePolicy:
    return ActionServerOutagePolicy.create(
        {**ActionServerOutagePolicy.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("outage_policy"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def predict(policy: ActionServerOutagePolicy, domain: Domain, events: list[Event]) -> str | None:
    """The action the policy predicts with confidence 1, or None when it has no opinion."""
    tracker = DialogueStateTracker.from_events("outage-test", events, domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if max(prediction.probabilities) == 0:
        return None
    assert max(prediction.probabilities) == 1.0
    return domain.action_names_or_texts[prediction.max_confidence_index]


def test_a_silent_answer_action_is_followed_by_the_polite_reply(tmp_path, domain) -> None:
    assert RESPONSE in domain.responses, "the response the policy predicts exists"
    failed = [*QUESTION, ActionExecuted("action_answer_question")]
    assert predict(make_policy(tmp_path), domain, failed) == RESPONSE


@pytest.mark.parametrize(
    "after",
    [
        [BotUttered("Ask the Finnish Tax Administration.")],  # the action answered
        [SlotSet("municipality", "espoo")],  # it returned events: it ran
        [BotUttered("…"), ActionExecuted("action_listen")],
        [ActionExecuted(RESPONSE)],  # the reply was given: the rule makes the bot listen
    ],
)
def test_no_opinion_when_the_action_returned_something(tmp_path, domain, after) -> None:
    events = [*QUESTION, ActionExecuted("action_answer_question"), *after]
    assert predict(make_policy(tmp_path), domain, events) is None


def test_no_opinion_for_actions_it_does_not_watch(tmp_path, domain) -> None:
    policy = make_policy(tmp_path)
    assert predict(policy, domain, QUESTION) is None, "right after the user spoke"
    assert predict(policy, domain, [*QUESTION, ActionExecuted("utter_greet")]) is None
    assert predict(policy, domain, []) is None, "an empty conversation"


def test_the_watched_actions_and_the_response_are_configurable(tmp_path, domain) -> None:
    policy = make_policy(tmp_path, actions=["utter_greet"], response="utter_greet")
    assert predict(policy, domain, [*QUESTION, ActionExecuted("utter_greet")]) == "utter_greet"
    assert predict(policy, domain, [*QUESTION, ActionExecuted("action_answer_question")]) is None


def test_it_outranks_the_rule_policy_on_a_tie() -> None:
    """Both predict with confidence 1.0 after a failure; the higher priority wins."""
    ours = ActionServerOutagePolicy.get_default_config()["priority"]
    assert ours > RulePolicy.get_default_config()["priority"]
