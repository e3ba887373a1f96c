"""Conversation ids: one namespace per channel, and unforgeable ids for the website widget.

Why: Rasa keys a conversation by its sender id alone. If a client may choose that id, it can
read and change anyone's conversation whose id it knows or guesses (another visitor's widget
session, `telegram-<user id>` over REST). So:

- socket.io ids are issued by the server: `web-<random>.<HMAC of it with a server secret>`.
  A client may resume only an id it was issued (the widget stores it across page reloads).
- Each channel has its own prefix (`web-`, `telegram-`; `console-` for the staff console);
  REST refuses ids that start with any of them (`rest_sender_error`).
- The secret comes from OPASTIN_SESSION_SECRET (every replica behind a balancer needs the same
  one), else from `<OPASTIN_VAR_DIR>/session_secret`, created on first use for `make run`.

Runs in the Rasa venv (Python 3.10), standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from connectors.telegram_protocol import SENDER_PREFIX as TELEGRAM_PREFIX

SECRET_ENV = "OPASTIN_SESSION_SECRET"
SECRET_FILE = "session_secret"
MIN_SECRET_CHARS = 32
WEB_PREFIX = "web-"
CONSOLE_PREFIX = "console-"
NONCE_BYTES = 16
MAC_HEX_CHARS = 32  # 128 bits of HMAC-SHA256: far beyond guessing over the network
WEB_SESSION_ID = re.compile(
    rf"^{WEB_PREFIX}([0-9a-f]{{{2 * NONCE_BYTES}}})\.([0-9a-f]{{{MAC_HEX_CHARS}}})$"
)


class SessionIds:
    """Issues and checks the website widget's session ids with one server secret."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters")
        self._key = secret.encode()

    def _mac(self, nonce: str) -> str:
        digest = hmac.new(self._key, (WEB_PREFIX + nonce).encode(), hashlib.sha256).hexdigest()
        return digest[:MAC_HEX_CHARS]

    def issue(self) -> str:
        """A new session id nobody can have seen before."""
        nonce = secrets.token_hex(NONCE_BYTES)
        return f"{WEB_PREFIX}{nonce}.{self._mac(nonce)}"

    def is_issued(self, session_id: object) -> bool:
        """True only for an id this secret signed (constant-time comparison)."""
        if not isinstance(session_id, str):
            return False
        match = WEB_SESSION_ID.match(session_id)
        return bool(match) and hmac.compare_digest(match.group(2), self._mac(match.group(1)))

    def resume_or_issue(self, requested: object) -> str:
        """The session to confirm to a socket: the requested one if we issued it, else a new one."""
        return requested if self.is_issued(requested) else self.issue()  # type: ignore[return-value]


def rest_sender_error(sender: str, staff: bool = False) -> str | None:
    """Why REST may not use this sender id, or None.

    Ids of other channels are refused; `console-` ids only with Rasa's API token (`staff`),
    which the staff console sends.
    """
    folded = sender.casefold()
    if folded.startswith(CONSOLE_PREFIX) and not staff:
        return f'sender ids starting with "{CONSOLE_PREFIX}" are reserved for the staff console'
    for prefix in (WEB_PREFIX, TELEGRAM_PREFIX):
        if folded.startswith(prefix):
            return (
                f'sender ids starting with "{prefix}" belong to another channel; '
                "use your own prefix (docs/rest-api.md)"
            )
    return None


def load_secret(environ: Mapping[str, str] | None = None) -> str:
    """The server secret: OPASTIN_SESSION_SECRET, else var/session_secret (created if missing).

    Raises ValueError for a secret that is too short, so the server does not start with it.
    """
    environ = os.environ if environ is None else environ
    secret = environ.get(SECRET_ENV, "")
    if secret:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters")
        return secret
    var_dir = environ.get("OPASTIN_VAR_DIR") or str(Path(__file__).resolve().parents[2] / "var")
    return secret_file(Path(var_dir) / SECRET_FILE)


def secret_file(path: Path) -> str:
    """Read the secret at `path`, or create it (mode 0600) atomically if it does not exist.

    Several Rasa processes on one var/ (the load test's replicas) must end with the same secret:
    the file is written under a temporary name and linked into place, so the first one wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"{path}: the session secret must be at least {MIN_SECRET_CHARS} chars")
    return secret
