"""Keep users' words and sender ids out of Rasa's own error logs.

When the tracker store fails (PostgreSQL restarting, a full disk), Rasa logs the SQLAlchemy
error at ERROR ("Error happened when trying to save conversation tracker ... Please investigate
the following error: ..."), and SQLAlchemy ends that message with the statement's parameters:
the sender id (for Telegram, the user's Telegram id) and, for an INSERT, every event as JSON
with what the user typed. Those parameters are replaced by "[parameters hidden]" in every log
record, its arguments and its traceback, before any handler sees it.

Rasa also names the conversation in some warnings ("Circuit breaker tripped ... for sender
'telegram-123456789'"); a Telegram sender id is the user's Telegram id, so it becomes
"telegram-#<keyed hash>", with a key made afresh in each process (equal within a run, enough to
follow one conversation through the log; not reversible by hashing every id).

Installed when Rasa imports our connectors package, which every `rasa run` does
(bot/credentials.yml names connectors.rest, connectors.socketio, connectors.telegram).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import traceback
from typing import Any

from connectors.telegram_protocol import SENDER_PREFIX

# SQLAlchemy's error text: "...\n[SQL: ...]\n[parameters: (...)]\n(Background on this error...".
# The parameters are one line (a repr), however long.
PARAMETERS = re.compile(r"\[parameters: [^\n]*")
HIDDEN = "[parameters hidden]"
TELEGRAM_SENDER = re.compile(rf"{re.escape(SENDER_PREFIX)}(-?\d+)")  # groups are negative
_PROCESS_KEY = secrets.token_bytes(32)
_installed = False


def _telegram(match: re.Match[str]) -> str:
    digest = hmac.new(_PROCESS_KEY, match.group(1).encode(), hashlib.sha256).hexdigest()[:8]
    return f"{SENDER_PREFIX}#{digest}"


def hide_parameters(text: str) -> str:
    """The text with SQLAlchemy's bound parameters and Telegram ids replaced."""
    return TELEGRAM_SENDER.sub(_telegram, PARAMETERS.sub(HIDDEN, text))


def _personal(text: str) -> bool:
    return "[parameters: " in text or TELEGRAM_SENDER.search(text) is not None


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    if record.levelno < logging.INFO:
        return record  # DEBUG quotes users anyway (Rasa's own); never on in production
    message = record.getMessage()
    if _personal(message):
        record.msg, record.args = hide_parameters(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if _personal(text):
            record.exc_text = hide_parameters(text)  # Formatter uses exc_text when it is set
    return record


def install() -> None:
    """Scrub every log record of this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _scrub(make_record(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
