"""Telegram input channel that fixes the defects of Rasa 3.6.21's built-in one.

Rasa's channel always talks to the production Bot API, registers the webhook with
`asyncio.run` (which breaks the first update and stops the server when Telegram is
unreachable), calls `getMe` on every update, checks no secret, and dumps custom payloads
as raw JSON. This one:

- talks to a configurable Bot API base URL through one aiohttp session that lives in the
  server's own loop (created on first use, closed when the server stops);
- registers the webhook (with a secret token) in a background task once the server runs,
  retrying with backoff and never stopping the server;
- answers 403 to updates without the secret token, before looking at their body;
- calls `getMe` once, to check the token at start-up;
- answers stickers, photos and other non-text messages in private chats with a polite
  line and ignores joins, edits and channel posts, always with 200 so Telegram does not
  retry them;
- renders bot buttons as inline keyboards and feeds a pressed button's payload back to
  the bot; sends only the text of custom payloads; splits long texts at 4096 characters.
- sends a turn's messages once the turn is stored, and a polite "please try again" in the
  user's language when it could not be processed or stored (turn_guard.py).

Settings come from credentials.yml values or the environment (see docs/telegram.md), so the
default credentials.yml needs no token: without one the channel stays disabled and its
webhook answers 503 with the reason.

Telegram's rules (update parsing, splitting, keyboards, de-duplication) are pure functions in
telegram_protocol.py, the Bot API client is telegram_api.py; this module is the Rasa channel.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from . import telegram_state
from .telegram_api import BotApi, TelegramApiError, redact_logs
from .telegram_protocol import (
    SECRET_HEADER,
    ButtonPayloads,
    Incoming,
    TelegramSettings,
    chat_id,
    inline_keyboard,
    message_metadata,
    parse_update,
    sender_id,
    split_message,
)
from .telegram_state import TelegramState
from .turn_guard import agent_domain, apology, handle_turn, message_language

logger = logging.getLogger(__name__)


class TelegramOutput(OutputChannel):
    """Sends the bot's messages as plain text (no parse mode, so nothing is interpreted)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, api: BotApi, buttons: ButtonPayloads) -> None:
        self.api = api
        self.buttons = buttons

    async def _send(self, method: str, **params: Any) -> None:
        """Send and log failures: a user who blocked the bot must not break the turn."""
        try:
            await self.api.call(method, **params)
        except TelegramApiError as error:
            # No chat id: in a private chat it is the user's Telegram id (docs/privacy.md).
            logger.warning("telegram: could not send a message: %s", error)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(text):
            await self._send(
                "sendMessage",
                chat_id=chat_id(recipient_id),
                text=part,
                disable_web_page_preview=True,
            )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        parts = split_message(text) or ["⬇"]
        for part in parts[:-1]:
            await self.send_text_message(recipient_id, part)
        await self._send(
            "sendMessage",
            chat_id=chat_id(recipient_id),
            text=parts[-1],
            disable_web_page_preview=True,
            reply_markup={"inline_keyboard": inline_keyboard(buttons, self.buttons)},
        )

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send("sendPhoto", chat_id=chat_id(recipient_id), photo=image)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Custom payloads are for web clients; a chat user gets only their text, if any."""
        text = json_message.get("text")
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text)
        else:
            logger.debug("telegram: custom payload %r not shown", json_message.get("type"))


class HeldTelegramOutput(TelegramOutput):
    """Holds a turn's messages until the turn is stored (turn_guard.py), then sends them."""

    def __init__(self, api: BotApi, buttons: ButtonPayloads) -> None:
        super().__init__(api, buttons)
        self.held: list[tuple[str, dict[str, Any]]] = []

    async def _send(self, method: str, **params: Any) -> None:
        self.held.append((method, params))

    async def release(self) -> None:
        for method, params in self.held:
            await super()._send(method, **params)
        self.held.clear()


class TelegramInput(InputChannel):
    """Receives Telegram webhook updates at /webhooks/telegram/webhook."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        # Loading the model drops the root logger to WARNING (absl), which would hide our
        # registration lines; follow Rasa's own level (it exports LOG_LEVEL) instead.
        logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
        settings = TelegramSettings.load(credentials)
        if settings.disabled_reason:
            logger.info("telegram channel disabled: %s", settings.disabled_reason)
        return cls(settings)

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self.api = BotApi(settings.access_token, settings.api_base)
        redact_logs(settings.access_token, logger, telegram_state.logger)
        # Update ids and long button payloads: in Redis when the lock store is (replicas).
        self.state = TelegramState()
        self.buttons: ButtonPayloads = self.state.buttons
        self.output = TelegramOutput(self.api, self.buttons)
        self.bot_username: str | None = None
        self.webhook_registered = False
        self.registration_error: str | None = None
        self._registration: asyncio.Task | None = None
        self._seen_updates = self.state.seen_updates
        self._state_checked = False

    def get_output_channel(self) -> OutputChannel | None:
        """The shared output channel; None when disabled, so Rasa falls back to collecting."""
        return None if self.settings.disabled_reason else self.output

    async def register_webhook(self) -> None:
        """Check the token (getMe, once) and register the webhook, retrying with backoff."""
        delay = 1.0
        while not self.webhook_registered:
            try:
                if self.bot_username is None:
                    me = await self.api.call("getMe")
                    self.bot_username = str((me or {}).get("username") or "")
                await self.api.call(
                    "setWebhook",
                    url=self.settings.webhook_url,
                    secret_token=self.settings.secret_token,
                    allowed_updates=["message", "callback_query"],
                )
            except TelegramApiError as error:
                self.registration_error = str(error)
                if error.code in (401, 404):
                    logger.error(
                        "telegram: the Bot API rejected the token (%s); not retrying", error
                    )
                    return
                logger.warning(
                    "telegram: webhook not registered (%s); retry in %.0f s", error, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_seconds)
                continue
            self.webhook_registered = True
            self.registration_error = None
            logger.info(
                "telegram: webhook registered at %s for @%s",
                self.settings.webhook_url,
                self.bot_username,
            )

    def share_state(self, app: Any) -> None:
        """Keep the shared state in Rasa's lock store's Redis, if the running agent has one."""
        if self.state.where == "redis":
            return
        lock_store = getattr(getattr(getattr(app, "ctx", None), "agent", None), "lock_store", None)
        if not self.state.share_through(lock_store) and not self._state_checked:
            self._state_checked = True
            logger.info(
                "telegram: update ids and button payloads in this process's memory (the lock "
                "store is not Redis); several replicas need a Redis lock store"
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram = Blueprint("opastin_telegram", __name__)
        disabled = self.settings.disabled_reason

        @telegram.listener("after_server_start")
        async def start_registration(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            if not disabled:
                self.share_state(app)  # the agent (and its lock store) is loaded by now
                self._registration = loop.create_task(self.register_webhook())

        @telegram.listener("before_server_stop")
        async def stop(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            if self._registration is not None:
                self._registration.cancel()
            await self.api.close()

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if disabled:
                return response.json({"status": "disabled", "reason": disabled})
            return response.json(
                {
                    "status": "ok",
                    "webhook_registered": self.webhook_registered,
                    "registration_error": self.registration_error,
                    "shared_state": self.state.where,
                }
            )

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if disabled:
                return response.json({"error": f"telegram channel disabled: {disabled}"}, 503)
            given = request.headers.get(SECRET_HEADER) or ""
            if not hmac.compare_digest(given.encode(), self.settings.secret_token.encode()):
                logger.warning("telegram: update refused, wrong or missing secret token")
                return response.json({"error": "wrong or missing secret token"}, 403)
            try:
                update = json.loads(request.body or b"")
            except ValueError:
                return response.json({"error": "the body is not JSON"}, 400)
            if not isinstance(update, dict):
                return response.json({"error": "an update is a JSON object"}, 400)
            self.share_state(request.app)  # a model loaded later brings its lock store
            try:
                outcome = await self.handle_update(
                    update, on_new_message, agent_domain(request.app)
                )
            except Exception:
                # Telegram resends an update until it gets 200: log, never loop on a bad one.
                logger.exception("telegram: update %s failed", update.get("update_id"))
                outcome = "failed"
            return response.json({"status": "ok", "outcome": outcome})

        return telegram

    async def handle_update(
        self,
        update: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        domain: Domain | None = None,
    ) -> str:
        """Hand one update to the bot; returns what was done, for the log and the response.

        `domain` (the loaded model's) has the "please try again" texts for a failed turn.
        """
        if not self._seen_updates.first_time(update.get("update_id")):
            return "duplicate"
        incoming = parse_update(update)
        if incoming.outcome == "button":
            return await self._handle_button(incoming, on_new_message, domain)
        for text in incoming.texts:
            await self._turn(on_new_message, text, incoming, domain)
        if incoming.reply:
            await self.output.send_text_message(str(incoming.chat), incoming.reply)
        return incoming.outcome

    async def _handle_button(
        self,
        incoming: Incoming,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        domain: Domain | None,
    ) -> str:
        """Stop the button's spinner, then send its payload to the bot as the user's message."""
        payload = self.buttons.payload(incoming.button_data)
        try:
            await self.api.call(
                "answerCallbackQuery",
                callback_query_id=incoming.callback_query_id,
                **({} if payload else {"text": "This button has expired. Please type instead."}),
            )
        except TelegramApiError as error:
            logger.warning("telegram: answerCallbackQuery failed: %s", error)
        if not payload or incoming.chat is None:
            return "ignored:button"
        await self._turn(on_new_message, payload, incoming, domain)
        return "button"

    async def _turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        incoming: Incoming,
        domain: Domain | None,
    ) -> None:
        """One user message: its replies once it is stored, else the polite "try again"."""
        output = HeldTelegramOutput(self.api, self.buttons)
        message = self._user_message(text, incoming, output)
        if await handle_turn(on_new_message, message):
            polite = apology(domain, message_language(message.metadata))
            await self.output.send_response(message.sender_id, polite)
            return
        await output.release()

    def _user_message(self, text: str, incoming: Incoming, output: OutputChannel) -> UserMessage:
        return UserMessage(
            text,
            output,
            sender_id(incoming.chat),
            input_channel=self.name(),
            metadata=message_metadata(incoming.chat, incoming.sender),
        )
