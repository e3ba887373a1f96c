"""Say something polite when the action server cannot be reached, instead of staying silent.

Rasa 3.6 logs a failed custom action and carries on with no events, so the user would get
no reply at all. After a watched custom action that produced no events (not even a bot
message), this policy predicts a fallback response; a rule then makes the bot listen.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData, confidence_scores_for
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class ActionServerOutagePolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "priority": 7,  # above RulePolicy (6): wins the tie at confidence 1.0
            "actions": ["action_answer_question"],
            "response": "utter_service_unavailable",
        }

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_DATA

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.watched = set(config["actions"])
        self.response = config["response"]

    def train(self, training_trackers: list, domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        events = list(tracker.events)
        for position in range(len(events) - 1, -1, -1):
            event = events[position]
            if not isinstance(event, ActionExecuted):
                continue
            if event.action_name in self.watched and position == len(events) - 1:
                # The action ran but returned nothing, not even a message: it failed.
                return self._prediction(confidence_scores_for(self.response, 1.0, domain))
            break  # after the response, a rule in data/rules.yml makes the bot listen
        return self._prediction(self._default_predictions(domain))
