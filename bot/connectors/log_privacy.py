"""Keep users' words and sender ids out of Rasa's own error logs.

When the tracker store fails (PostgreSQL restarting, a full disk), Rasa logs the SQLAlchemy
error at ERROR ("Error happened when trying to save conversation tracker ... Please investigate
the following error: ..."), and SQLAlchemy ends that message with the statement's parameters:
the sender id (for Telegram, the user's Telegram id) and, for an INSERT, every event as JSON
with what the user typed. Those parameters are replaced by "[parameters hidden]" in every log
record, its arguments and its traceback, before any handler sees it.

Installed when Rasa imports our connectors package, which every `rasa run` does
(bot/credentials.yml names connectors.rest, connectors.socketio, connectors.telegram).
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

# SQLAlchemy's error text: "...\n[SQL: ...]\n[parameters: (...)]\n(Background on this error...".
# The parameters are one line (a repr), however long.
PARAMETERS = re.compile(r"\[parameters: [^\n]*")
HIDDEN = "[parameters hidden]"
_installed = False


def hide_parameters(text: str) -> str:
    """The text with SQLAlchemy's bound parameters replaced."""
    return PARAMETERS.sub(HIDDEN, text)


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    if record.levelno < logging.INFO:
        return record  # DEBUG quotes users anyway (Rasa's own); never on in production
    message = record.getMessage()
    if "[parameters: " in message:
        record.msg, record.args = hide_parameters(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if "[parameters: " in text:
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
