"""The REST channel with input validation: a broken request gets a 4xx with a reason.

Rasa 3.6's RestInput reads `request.json` without checks: a body that is not JSON, a missing
sender or a non-object body ends in a 500 with a traceback in the log, and any size of message
goes to the NLU. This subclass keeps the same URL (/webhooks/rest/webhook) and replies, and
refuses bad requests before they reach the bot:

- sender ids of other channels (`web-`, `telegram-`) with 403, and the staff console's
  (`console-`) unless the request carries Rasa's API token (session_ids.py): REST cannot read
  or change a widget or Telegram conversation;
- more messages than the rate limits allow (rate_limit.py) with 429 and Retry-After; the
  message is not processed, so the conversation stays as it was.

A message that could not be processed or stored (PostgreSQL or Redis failing) is answered with
the polite "please try again" reply (turn_guard.py), not a 500.
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.rate_limit import MessageLimits
from connectors.session_ids import rest_sender_error
from connectors.turn_guard import agent_domain, apology, handle_turn, message_language

MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 2000
MAX_SENDER_CHARS = 128
API_TOKEN_ENV = "OPASTIN_RASA_API_TOKEN"


class RequestError(ValueError):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse_body(raw: bytes) -> dict[str, Any]:
    """Validate a REST request body; raise RequestError with the HTTP status and a reason."""
    if len(raw) > MAX_BODY_BYTES:
        raise RequestError(413, f"request body over {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "request body is not UTF-8 text") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(400, f"request body is not valid JSON: {error.msg}") from None
    if not isinstance(body, dict):
        raise RequestError(400, 'expected a JSON object {"sender": ..., "message": ...}')
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip():
        raise RequestError(400, '"sender" is required: a non-empty string')
    if len(sender) > MAX_SENDER_CHARS:
        raise RequestError(400, f'"sender" is longer than {MAX_SENDER_CHARS} characters')
    if not isinstance(message, str) or not message.strip():
        raise RequestError(400, '"message" is required: a non-empty string')
    if len(message) > MAX_MESSAGE_CHARS:
        raise RequestError(413, f'"message" is longer than {MAX_MESSAGE_CHARS} characters')
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RequestError(400, '"metadata" must be a JSON object')
    return {"sender": sender, "message": message, "metadata": metadata or {}}


def request_token(request: Request) -> str:
    """The token a request carries: `?token=` (as Rasa's HTTP API takes it) or a Bearer header."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip()
    return request.args.get("token", "")


def is_staff(request: Request, api_token: str) -> bool:
    """True if the request carries Rasa's API token (the staff console's requests do)."""
    return bool(api_token) and hmac.compare_digest(request_token(request), api_token)


class ValidatedRestInput(RestInput):
    def __init__(self, limits: MessageLimits | None = None, api_token: str | None = None) -> None:
        # Read when Rasa builds its channels: bad limits stop the start-up with their name.
        self.limits = limits or MessageLimits.from_env()
        self.api_token = os.environ.get(API_TOKEN_ENV, "") if api_token is None else api_token

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("validated_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = parse_body(request.body or b"")
            except RequestError as error:
                return response.json({"error": error.reason}, status=error.status)
            refused = rest_sender_error(body["sender"], is_staff(request, self.api_token))
            if refused:
                return response.json({"error": refused}, status=403)
            limited = self.limits.refusal(body["sender"], request.ip)
            if limited:
                retry_after, reason = limited
                return response.json(
                    {"error": reason, "retry_after": retry_after},
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
            collector = CollectingOutputChannel()
            message = UserMessage(
                body["message"],
                collector,
                body["sender"],
                input_channel=self.name(),
                metadata=body["metadata"],
            )
            if await handle_turn(on_new_message, message):  # not processed or not stored
                language = message_language(body["metadata"])
                polite = apology(agent_domain(request.app), language)
                return response.json([{"recipient_id": body["sender"], **polite}])
            return response.json(collector.messages)

        return webhook
