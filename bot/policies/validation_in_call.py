"""One action-server call for an answer turn: the slot validation rides along with the answer.

Rasa 3.6 calls `action_validate_slot_mappings` on the action server after every user message
(ActionExtractSlots), before it predicts the next action. A question then costs a second call
for `action_answer_question`: the tracker as JSON, a new HTTP connection, the response's
checks, twice per answer. That round trip was most of what a search turn cost over a greeting
(docs/performance.md, "Fifth pass").

Here the validation call is postponed until Rasa knows the first action it will run:
- if that action is one the action endpoint lists under `VALIDATES_IN_CALL` (bot/endpoints.yml:
  `action_answer_question`), it runs without a separate validation call, and its request asks the
  action server to validate the slots first in the same call (`VALIDATE_KEY` on the request's copy
  of the latest message; actions/answer_question.py returns the validation's events before its own);
- before any other action (a response, `action_listen`, another custom action), and at the end of
  the turn if no action ran, Rasa's own validation call is made then, on the same tracker.
Rasa's own slot extraction from entities still runs at once; only the call is moved.

Moving the call across the prediction is exact only when no prediction can depend on what the
validation sets: the domain has no forms and no slot that influences the conversation (checked
per domain; otherwise Rasa's own order). The events are the same; in an answer turn the
validation's slot events come after `action_answer_question` instead of before it.
Tests: tests/rasa_venv/test_validation_in_call.py.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

VALIDATES_IN_CALL = "validates_in_call"  # action endpoint key: actions that validate themselves
VALIDATE_KEY = "opastin_validate_slots"  # actions/answer_question.py reads it
_PENDING = "_opastin_pending_validation"

# Set while the processor runs an action that validates in its own call (the request's format
# is built inside that run, in the same asyncio task).
validating_in_call: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "opastin_validating_in_call", default=False
)
_movable: dict[int, tuple[Any, bool]] = {}


def self_validating(endpoint: Any) -> frozenset[str]:
    """The action names the action endpoint's configuration lists under VALIDATES_IN_CALL."""
    names = (getattr(endpoint, "kwargs", None) or {}).get(VALIDATES_IN_CALL) or ()
    if isinstance(names, str):
        names = [names]
    return frozenset(str(name) for name in names)


def validation_movable(domain: Any) -> bool:
    """No forms and no slot that influences the conversation: predictions cannot depend on the
    slots the validation sets (computed once per domain object)."""
    known = _movable.get(id(domain))
    if known is not None and known[0] is domain:
        return known[1]
    movable = not domain.form_names and not any(
        slot.influence_conversation for slot in domain.slots
    )
    _movable.clear()  # one model at a time
    _movable[id(domain)] = (domain, movable)
    return movable


Validate = Callable[..., Awaitable[list[Any]]]
RunAction = Callable[..., Awaitable[bool]]
PredictionLoop = Callable[..., Awaitable[None]]


def postponed_validation(original: Validate) -> Validate:
    """`original` (ActionExtractSlots._execute_validation_action), postponed when it may be."""
    from rasa.core.actions.action import ACTION_VALIDATE_SLOT_MAPPINGS
    from rasa.shared.core.events import SlotSet

    async def _execute_validation_action(
        self: Any,
        extraction_events: list[Any],
        output_channel: Any,
        nlg: Any,
        tracker: Any,
        domain: Any,
    ) -> list[Any]:
        if (
            ACTION_VALIDATE_SLOT_MAPPINGS not in domain.user_actions
            or not self_validating(self._action_endpoint)
            or not validation_movable(domain)
        ):
            return await original(self, extraction_events, output_channel, nlg, tracker, domain)
        tracker.__dict__[_PENDING] = (self, output_channel, nlg, domain)
        # What Rasa returns without a validation action: the extracted slots.
        return [event for event in extraction_events if isinstance(event, SlotSet)]

    return _execute_validation_action


async def run_pending_validation(processor: Any, tracker: Any) -> None:
    """Make the postponed validation call now, as Rasa would have, and apply its events."""
    pending = tracker.__dict__.pop(_PENDING, None)
    if pending is None:
        return
    action, output_channel, nlg, domain = pending
    original = type(action)._execute_validation_action.__wrapped__
    events = await original(action, [], output_channel, nlg, tracker, domain)
    await processor._send_bot_messages(events, tracker, output_channel)
    tracker.update_with_events(events, domain)


def validating_run_action(original: RunAction) -> RunAction:
    """`original` (MessageProcessor._run_action), first settling a postponed validation."""
    from rasa.core.actions.action import RemoteAction

    async def _run_action(
        self: Any,
        action: Any,
        tracker: Any,
        output_channel: Any,
        nlg: Any,
        prediction: Any,
    ) -> bool:
        if _PENDING not in tracker.__dict__:
            return await original(self, action, tracker, output_channel, nlg, prediction)
        if isinstance(action, RemoteAction) and action.name() in self_validating(
            self.action_endpoint
        ):
            tracker.__dict__.pop(_PENDING)
            token = validating_in_call.set(True)
            try:
                return await original(self, action, tracker, output_channel, nlg, prediction)
            finally:
                validating_in_call.reset(token)
        await run_pending_validation(self, tracker)
        return await original(self, action, tracker, output_channel, nlg, prediction)

    return _run_action


def settling_prediction_loop(original: PredictionLoop) -> PredictionLoop:
    """`original` (MessageProcessor._run_prediction_loop); a validation still postponed when
    no action ran (a paused conversation, the action limit) is made at the end."""

    async def _run_prediction_loop(self: Any, output_channel: Any, tracker: Any) -> None:
        await original(self, output_channel, tracker)
        await run_pending_validation(self, tracker)

    return _run_prediction_loop


def install() -> bool:
    """Replace the three methods once per process; False if already done."""
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.core.processor import MessageProcessor
    from rasa_patches import replace_once

    validation = replace_once(
        ActionExtractSlots, "_execute_validation_action", postponed_validation
    )
    run_action = replace_once(MessageProcessor, "_run_action", validating_run_action)
    loop = replace_once(MessageProcessor, "_run_prediction_loop", settling_prediction_loop)
    return validation or run_action or loop
