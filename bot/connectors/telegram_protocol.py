"""Telegram's rules as pure functions: settings, update parsing, message splitting, keyboards.

Nothing here does I/O or imports Rasa, Sanic or aiohttp, so every rule of the Telegram channel
(bot/connectors/telegram.py) can be unit-tested on plain dicts (tests/rasa_venv).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_BASE = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's limit for one message, counted in UTF-16 code units.
MAX_MESSAGE_LENGTH = 4096
# Telegram's limit for a button's callback_data, in bytes.
MAX_CALLBACK_DATA = 64
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SENDER_PREFIX = "telegram-"
# Update ids remembered to drop the resends Telegram makes after a timeout.
SEEN_UPDATES = 10_000

# credentials.yml key -> environment variable; a credentials value wins over the environment.
SETTING_SOURCES = {
    "access_token": "TELEGRAM_BOT_TOKEN",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
    "secret_token": "TELEGRAM_WEBHOOK_SECRET",
    "api_base": "TELEGRAM_API_BASE",
    "retry_max_seconds": "TELEGRAM_RETRY_MAX_SECONDS",
    "test_insecure_api": "TELEGRAM_TEST_INSECURE_API",
}
# Values of the test-only switch that allow a plain-http Bot API on this machine.
TRUE_VALUES = {"1", "true", "yes"}

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


@dataclass(frozen=True)
class TelegramSettings:
    """What the channel needs; `disabled_reason` says why it cannot run, or None."""

    access_token: str = field(default="", repr=False)  # never in a repr that reaches a log
    webhook_url: str = ""
    secret_token: str = field(default="", repr=False)
    api_base: str = DEFAULT_API_BASE
    retry_max_seconds: float = 60.0
    # Test-only: allow http:// to a loopback address (the fake Bot API of tests/fakes).
    test_insecure_api: bool = False

    def __post_init__(self) -> None:
        check_api_base(self.api_base, self.test_insecure_api)

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
            test_insecure_api=values["test_insecure_api"].lower() in TRUE_VALUES,
        )

    @property
    def disabled_reason(self) -> str | None:
        if not self.access_token:
            return "no bot token: set TELEGRAM_BOT_TOKEN (see docs/telegram.md)"
        if not self.webhook_url:
            return "no webhook URL: set TELEGRAM_WEBHOOK_URL (see docs/telegram.md)"
        return None


def check_api_base(api_base: str, test_insecure_api: bool = False) -> None:
    """Refuse a Bot API base that is not an https URL (plain http only to this machine, and
    only with the test switch TELEGRAM_TEST_INSECURE_API, for the fake Bot API in tests).

    Every call goes to `<base>/bot<token>/<method>`: without a scheme the HTTP client refuses
    the whole URL, token included, and that message reached the public health response; over
    plain http the token travels readable. The value is not echoed back, in case a token was
    pasted into it.
    """
    parts = urlsplit(api_base)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    secure = parts.scheme == "https" or (parts.scheme == "http" and loopback and test_insecure_api)
    token_inside = re.search(r"/bot\d+:", parts.path)  # the token belongs in access_token
    if not secure or not host or parts.query or parts.fragment or parts.username or token_inside:
        raise ValueError(
            "telegram: the Bot API base (api_base / TELEGRAM_API_BASE) must be an https:// URL "
            "with a host, no query and no token, e.g. https://api.telegram.org (http:// only "
            "to localhost with TELEGRAM_TEST_INSECURE_API=1, for the fake Bot API in tests)"
        )


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


def inline_keyboard(
    buttons: list[dict[str, Any]], payloads: ButtonPayloads
) -> list[list[dict[str, str]]]:
    """Short answers (Yes / No) side by side, longer titles one per row for phones."""
    keys = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "?")
        if button.get("url"):
            keys.append({"text": title, "url": str(button["url"])})
        else:
            data = payloads.callback_data(str(button.get("payload") or title))
            keys.append({"text": title, "callback_data": data})
    if len(keys) <= 3 and all(len(key["text"]) <= 16 for key in keys):
        return [keys]
    return [[key] for key in keys]


class SeenUpdates:
    """The ids of recent updates, so one Telegram resends after a timeout is handled once."""

    def __init__(self, capacity: int = SEEN_UPDATES) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._capacity = capacity

    def first_time(self, update_id: Any) -> bool:
        """False for an update already handled; True (and remembered) otherwise."""
        if not isinstance(update_id, int):
            return True
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


def chat_id(recipient_id: str) -> int | str:
    """Telegram chat id of a conversation (sender ids carry a prefix to keep channels apart)."""
    chat = str(recipient_id).removeprefix(SENDER_PREFIX)
    return int(chat) if re.fullmatch(r"-?[0-9]+", chat) else chat


def sender_id(chat: Any) -> str:
    """Rasa's conversation id for a Telegram chat (the inverse of `chat_id`)."""
    return f"{SENDER_PREFIX}{chat}"


def language_of(sender: Mapping[str, Any]) -> str | None:
    """The primary language subtag of the user's Telegram client ("pt-br" -> "pt"), if any."""
    code = sender.get("language_code")
    return str(code).split("-")[0].lower() if code else None


def message_metadata(chat: Any, sender: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata of a user message: the chat, and the client's language for the bot to use."""
    metadata: dict[str, Any] = {"telegram_chat_id": chat}
    language = language_of(sender)
    if language:
        metadata["language"] = language
    return metadata


def commands(text: str) -> list[str]:
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


@dataclass(frozen=True)
class Incoming:
    """What one update asks of the channel; `outcome` is also the webhook's answer.

    Outcomes: "answered" (send `texts` to the bot), "button" (look up `button_data`, stop the
    button's spinner, send its payload), "text_only_reply" (send `reply` to `chat`),
    "ignored:<why>" (nothing to do).
    """

    outcome: str
    chat: Any = None
    sender: Mapping[str, Any] = field(default_factory=dict)
    texts: tuple[str, ...] = ()
    reply: str = ""
    callback_query_id: str = ""
    button_data: str = ""


def parse_update(update: Mapping[str, Any]) -> Incoming:
    """Decide what an update is: a question, a pressed button, unreadable content, or noise.

    Joins, edits and channel posts are ignored; stickers, photos and the like in a private chat
    get a polite "text only" reply in the client's language; a photo's caption is a question.
    """
    query = update.get("callback_query")
    if isinstance(query, dict):
        sender = query.get("from") or {}
        chat = (query.get("message") or {}).get("chat") or {}
        return Incoming(
            "button",
            # A private chat's id is the user's id; inline-mode messages carry no chat.
            chat=chat.get("id", sender.get("id")),
            sender=sender,
            callback_query_id=str(query.get("id")),
            button_data=str(query.get("data") or ""),
        )
    message = update.get("message")
    if not isinstance(message, dict):
        return Incoming("ignored:" + next((k for k in update if k != "update_id"), "empty"))
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    if "id" not in chat or sender.get("is_bot"):
        return Incoming("ignored:no_chat")
    text = message.get("text") or message.get("caption")
    if isinstance(text, str) and text.strip():
        texts = tuple(commands(text.strip()))
        return Incoming("answered" if texts else "ignored:empty_command", chat["id"], sender, texts)
    if chat.get("type") == "private" and any(k in message for k in UNREADABLE_CONTENT):
        reply = TEXT_ONLY_REPLY.get(language_of(sender) or "en", TEXT_ONLY_REPLY["en"])
        return Incoming("text_only_reply", chat["id"], sender, reply=reply)
    return Incoming("ignored:no_text")
