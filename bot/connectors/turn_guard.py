"""A message that could not be handled gets a polite "please try again", never silence or a 500.

Why: when PostgreSQL (the tracker store) or Redis (the lock store) fails while Rasa runs, Rasa
either raises (no lock: Rasa's REST channel answers 500, socket.io says nothing at all) or
answers from an empty conversation and stores nothing (tracker_store.py). Our channels process
each message through `handle_turn`: the replies are held back until the turn is stored, and
when the store failed or anything raised they are replaced by the domain's
`utter_service_unavailable` in the user's language (the `language` the widget sends in the
message metadata; English otherwise), its custom payload's reason set to `try_again`, so a
client can tell that the message was not taken and may be sent again. A reply the user sees
as an answer is therefore always in the tracker store.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain
from tracker_store import watched_turn

logger = logging.getLogger(__name__)

RESPONSE = "utter_service_unavailable"  # bot/domain.yml, one variant per language
REASON = "try_again"  # custom payload reason: the message was not processed or not stored


async def handle_turn(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> str | None:
    """Process one user message; None when it was handled and stored, else why not.

    The why names the failed operation or exception type only: exception texts can hold the
    conversation id, which is a bearer key for the widget (session_ids.py).
    """
    with watched_turn() as record:
        try:
            await on_new_message(message)
        except Exception as error:
            reason = type(error).__name__
            cause = error.__cause__ or error.__context__
            if cause is not None:
                reason += f" ({type(cause).__name__})"
            record.store_error = record.store_error or reason
    if record.store_error:
        channel = message.input_channel  # the channel's name ("rest", "socketio"): not personal
        logger.warning(
            "%s: message not processed (%s); the user was asked to try again",
            channel,
            record.store_error,
        )
    return record.store_error


def message_language(metadata: dict[str, Any] | None) -> str | None:
    language = (metadata or {}).get("language")
    return language if isinstance(language, str) else None


def apology(domain: Domain | None, language: str | None) -> dict[str, Any]:
    """The "please try again" message: `text` and `custom`, in `language` if the domain has it."""
    variants = list((domain.responses if domain else {}).get(RESPONSE, []))
    if not variants:
        logger.error("the domain has no %s: the apology is the payload only", RESPONSE)
    chosen: dict[str, Any] = {}
    for variant in variants:
        languages = {
            c.get("value") for c in variant.get("condition") or [] if c.get("name") == "language"
        }
        if language in languages:
            chosen = variant
            break
        if not languages and not chosen:
            chosen = variant  # the unconditional variant: English
    message: dict[str, Any] = {}
    if chosen.get("text"):
        message["text"] = chosen["text"]
    message["custom"] = {"type": "no_answer", **(chosen.get("custom") or {}), "reason": REASON}
    return message


def agent_domain(app: Any) -> Domain | None:
    """The loaded model's domain (Rasa keeps the agent in `app.ctx.agent`), or None."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    domain = getattr(agent, "domain", None)
    return domain if isinstance(domain, Domain) else None
