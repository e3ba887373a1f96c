"""Keyed hashes of sender ids: what the console and its exports show instead of the id itself.

A sender id can identify a person: the Telegram channel uses the user's numeric Telegram id. A
plain hash would not hide it (Telegram ids are few enough to hash them all), so the console
shows an HMAC-SHA256 with a secret key, e.g. ``c-3f9a0c1b2d4e5f60``. The key comes from
CONSOLE_SENDER_KEY or, by default, a file made on first use (CONSOLE_SENDER_KEY_FILE, mode
600), so the same conversation keeps the same name across restarts, in links and in export file
names, and `python -m console forget` can find a conversation by either form.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

PREFIX = "c-"
DIGITS = 16  # hex digits: 64 bits, no collision among any realistic number of conversations
PSEUDONYM = re.compile(rf"^{PREFIX}[0-9a-f]{{{DIGITS}}}$")
MIN_KEY = 32  # characters of CONSOLE_SENDER_KEY


class Pseudonyms:
    """Sender id -> stable keyed hash; the key never leaves this object."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY:
            raise ValueError(f"the sender key needs at least {MIN_KEY} bytes")
        self._key = key

    def of(self, sender_id: str) -> str:
        """The conversation's name in the console, e.g. ``c-3f9a0c1b2d4e5f60``."""
        digest = hmac.new(self._key, sender_id.encode("utf-8"), hashlib.sha256).hexdigest()
        return PREFIX + digest[:DIGITS]

    @classmethod
    def from_settings(cls, key: str, key_file: Path) -> Pseudonyms:
        """The key given (CONSOLE_SENDER_KEY), else the one in key_file, made if missing."""
        return cls(key.encode("utf-8") if key else load_or_create_key(key_file))


def is_pseudonym(text: str) -> bool:
    return bool(PSEUDONYM.match(text))


def load_or_create_key(path: Path) -> bytes:
    """The key stored in `path`; on first use a new random one, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(partial, path)  # fails if another process made the key meanwhile: keep theirs
        except FileExistsError:
            pass
        finally:
            partial.unlink(missing_ok=True)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY:
        raise SystemExit(f"error: {path}: the sender key needs at least {MIN_KEY} characters")
    return key.encode("utf-8")
