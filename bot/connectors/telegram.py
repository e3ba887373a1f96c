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

Settings come from credentials.yml values or the environment (see docs/telegram.md), so the
default credentials.yml needs no token: without one the channel stays disabled and its
webhook answers 503 with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's limit for one message, counted in UTF-16 code units.
MAX_MESSAGE_LENGTH = 4096
# Telegram's limit for a button's callback_data, in bytes.
MAX_CALLBACK_DATA = 64
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SENDER_PREFIX = "telegram-"

# credentials.yml key -> environment variable; a credentials value wins over the environment.
SETTING_SOURCES = {
    "access_token": "TELEGRAM_BOT_TOKEN",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "secret_token": "TELEGRAM_WEBHOOK_SECRET",
    "api_base": "TELEGRAM_API_BASE",
    "retry_max_seconds": "TELEGRAM_RETRY_MAX_SECONDS",
}

# Message fields a person sends that we cannot read; answered politely in private chats.
UNREADABLE_CONTENT = (
    "sticker",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
)
TEXT_ONLY_REPLY = {
    "en": "I can only read text messages. Please type your question, "
    "for example: How do I get a tax card?",
    "fi": "Osaan lukea vain tekstiviestejä. Kirjoita kysymyksesi, "
    "esimerkiksi: Miten saan verokortin?",
    "sv": "Jag kan bara läsa textmeddelanden. Skriv din fråga, "
    "till exempel: Hur får jag ett skattekort?",
}
# Commands Telegram clients offer; they map to intents so NLU never has to guess them.
COMMANDS = {
    "start": ["/greet"],
    "help": ["/greet"],
    "restart": ["/restart", "/greet"],
}


class TelegramApiError(Exception):
    """The Bot API refused a call or could not be reached."""

    def __init__(
        self, method: str, description: str, code: int | None = None, retry_after: float = 0
    ) -> None:
        super().__init__(f"{method}: {description}" + (f" (error {code})" if code else ""))
        self.method = method
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class TelegramSettings:
    """What the channel needs; `disabled_reason` says why it cannot run, or None."""

    access_token: str = ""
    webhook_url: str = ""
    secret_token: str = ""
    api_base: str = DEFAULT_API_BASE
    retry_max_seconds: float = 60.0

    @classmethod
    def load(
        cls, credentials: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
    ) -> TelegramSettings:
        """Credentials values first, then environment variables, then defaults."""
        credentials = credentials or {}
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for key, variable in SETTING_SOURCES.items():
            value = credentials.get(key)
            if value is None or str(value).strip() == "":
                value = environ.get(variable, "")
            values[key] = str(value).strip()
        token = values["access_token"]
        secret = values["secret_token"] or (derived_secret(token) if token else "")
        if not SECRET_PATTERN.match(secret or "x"):
            raise ValueError(
                "telegram: the webhook secret (secret_token / TELEGRAM_WEBHOOK_SECRET) must be "
                "1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        try:
            retry_max = float(values["retry_max_seconds"] or 60)
        except ValueError:
            raise ValueError("telegram: TELEGRAM_RETRY_MAX_SECONDS must be a number") from None
        return cls(
            access_token=token,
            webhook_url=values["webhook_url"],
            secret_token=secret,
            api_base=(values["api_base"] or DEFAULT_API_BASE).rstrip("/"),
            retry_max_seconds=max(1.0, retry_max),
        )

    @property
    def disabled_reason(self) -> str | None:
        if not self.access_token:
            return "no bot token: set TELEGRAM_BOT_TOKEN (see docs/telegram.md)"
        if not self.webhook_url:
            return "no webhook URL: set TELEGRAM_WEBHOOK_URL (see docs/telegram.md)"
        return None


def derived_secret(token: str) -> str:
    """A stable webhook secret when none is configured: unguessable without the token."""
    return hmac.new(token.encode(), b"opastin-telegram-webhook", hashlib.sha256).hexdigest()


def utf16_length(text: str) -> int:
    """Length as Telegram counts it (characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split text into Telegram-sized parts, preferring paragraph, line and word breaks."""
    text = text.strip()
    parts: list[str] = []
    while utf16_length(text) > limit:
        end, units = 0, 0
        for char in text:
            units += 2 if ord(char) > 0xFFFF else 1
            if units > limit:
                break
            end += 1
        window = text[:end]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > end // 2:
                break
        if cut <= end // 2:
            cut = end
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


class BotApi:
    """A minimal Bot API client; its session is created in, and bound to, the running loop."""

    def __init__(self, token: str, api_base: str, timeout: float = 15) -> None:
        self._url = f"{api_base}/bot{token}"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._loop = loop
        return self._session

    async def call(self, method: str, **params: Any) -> Any:
        """Call a Bot API method; waits out short rate limits (429) up to twice."""
        for attempt in range(3):
            try:
                async with self._client().post(f"{self._url}/{method}", json=params) as answer:
                    try:
                        body = await answer.json(content_type=None)
                    except ValueError:
                        body = {"ok": False, "description": f"HTTP {answer.status}, not JSON"}
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
                raise TelegramApiError(method, f"unreachable: {error!r}") from error
            if isinstance(body, dict) and body.get("ok"):
                return body.get("result")
            body = body if isinstance(body, dict) else {}
            retry_after = float((body.get("parameters") or {}).get("retry_after") or 0)
            error = TelegramApiError(
                method,
                str(body.get("description") or f"HTTP {answer.status}"),
                body.get("error_code") or answer.status,
                retry_after,
            )
            if error.code == 429 and 0 < retry_after <= 30 and attempt < 2:
                await asyncio.sleep(retry_after)
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


class ButtonPayloads:
    """Maps button payloads longer than Telegram's 64-byte callback_data to short keys."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._payloads: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_DATA and not payload.startswith("btn:"):
            return payload
        key = "btn:" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self._capacity:
            self._payloads.popitem(last=False)
        return key

    def payload(self, data: str) -> str | None:
        """The payload a button carries; None for a mapped key this process no longer knows."""
        if data.startswith("btn:"):
            return self._payloads.get(data)
        return data


def chat_id(recipient_id: str) -> int | str:
    """Telegram chat id of a conversation (sender ids carry a prefix to keep channels apart)."""
    chat = str(recipient_id).removeprefix(SENDER_PREFIX)
    return int(chat) if re.fullmatch(r"-?[0-9]+", chat) else chat


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
            logger.warning("telegram: could not send to chat %s: %s", params.get("chat_id"), error)

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
            reply_markup={"inline_keyboard": self.inline_keyboard(buttons)},
        )

    def inline_keyboard(self, buttons: list[dict[str, Any]]) -> list[list[dict[str, str]]]:
        """Short answers (Yes / No) side by side, longer titles one per row for phones."""
        keys = []
        for button in buttons:
            title = str(button.get("title") or button.get("payload") or "?")
            if button.get("url"):
                keys.append({"text": title, "url": str(button["url"])})
            else:
                data = self.buttons.callback_data(str(button.get("payload") or title))
                keys.append({"text": title, "callback_data": data})
        if len(keys) <= 3 and all(len(key["text"]) <= 16 for key in keys):
            return [keys]
        return [[key] for key in keys]

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
        self.buttons = ButtonPayloads()
        self.output = TelegramOutput(self.api, self.buttons)
        self.bot_username: str | None = None
        self.webhook_registered = False
        self.registration_error: str | None = None
        self._registration: asyncio.Task | None = None
        self._seen_updates: OrderedDict[int, None] = OrderedDict()

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

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram = Blueprint("opastin_telegram", __name__)
        disabled = self.settings.disabled_reason

        @telegram.listener("after_server_start")
        async def start_registration(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
            if not disabled:
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
            try:
                outcome = await self.handle_update(update, on_new_message)
            except Exception:
                # Telegram resends an update until it gets 200: log, never loop on a bad one.
                logger.exception("telegram: update %s failed", update.get("update_id"))
                outcome = "failed"
            return response.json({"status": "ok", "outcome": outcome})

        return telegram

    def _first_time(self, update_id: Any) -> bool:
        """False for an update already handled (Telegram resends after timeouts)."""
        if not isinstance(update_id, int):
            return True
        if update_id in self._seen_updates:
            return False
        self._seen_updates[update_id] = None
        while len(self._seen_updates) > 10_000:
            self._seen_updates.popitem(last=False)
        return True

    async def handle_update(
        self, update: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> str:
        """Hand one update to the bot; returns what was done, for the log and the response."""
        if not self._first_time(update.get("update_id")):
            return "duplicate"
        if isinstance(update.get("callback_query"), dict):
            return await self._handle_button(update["callback_query"], on_new_message)
        message = update.get("message")
        if not isinstance(message, dict):
            kind = next((k for k in update if k != "update_id"), "empty")
            return f"ignored:{kind}"
        chat = message.get("chat") or {}
        sender = message.get("from") or {}
        if "id" not in chat or sender.get("is_bot"):
            return "ignored:no_chat"
        text = message.get("text") or message.get("caption")
        if isinstance(text, str) and text.strip():
            texts = self._commands(text.strip())
            for line in texts:
                await on_new_message(self._user_message(line, chat["id"], sender))
            return "answered" if texts else "ignored:empty_command"
        if chat.get("type") == "private" and any(k in message for k in UNREADABLE_CONTENT):
            language = str(sender.get("language_code") or "en").split("-")[0].lower()
            reply = TEXT_ONLY_REPLY.get(language, TEXT_ONLY_REPLY["en"])
            await self.output.send_text_message(str(chat["id"]), reply)
            return "text_only_reply"
        return "ignored:no_text"

    async def _handle_button(
        self,
        query: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> str:
        """Stop the button's spinner, then send its payload to the bot as the user's message."""
        payload = self.buttons.payload(str(query.get("data") or ""))
        try:
            await self.api.call(
                "answerCallbackQuery",
                callback_query_id=str(query.get("id")),
                **({} if payload else {"text": "This button has expired. Please type instead."}),
            )
        except TelegramApiError as error:
            logger.warning("telegram: answerCallbackQuery failed: %s", error)
        sender = query.get("from") or {}
        chat = (query.get("message") or {}).get("chat") or {}
        # A private chat's id is the user's id; inline-mode messages carry no chat.
        chat_id_ = chat.get("id", sender.get("id"))
        if not payload or chat_id_ is None:
            return "ignored:button"
        await on_new_message(self._user_message(payload, chat_id_, sender))
        return "button"

    @staticmethod
    def _commands(text: str) -> list[str]:
        """Map /start, /help, /restart to intents; strip the slash of any other command.

        Stripping keeps users from triggering arbitrary intents by typing `/intent{...}`.
        """
        if not text.startswith("/"):
            return [text]
        command, _, rest = text[1:].partition(" ")
        command = command.split("@", 1)[0].lower()
        if command in COMMANDS:
            return COMMANDS[command]
        remainder = f"{command} {rest}".strip()
        return [remainder] if remainder else []

    def _user_message(self, text: str, chat: Any, sender: dict[str, Any]) -> UserMessage:
        metadata: dict[str, Any] = {"telegram_chat_id": chat}
        if sender.get("language_code"):
            metadata["language"] = str(sender["language_code"]).split("-")[0].lower()
        return UserMessage(
            text,
            self.output,
            f"{SENDER_PREFIX}{chat}",
            input_channel=self.name(),
            metadata=metadata,
        )
