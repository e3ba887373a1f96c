"""Staff accounts (hashed passwords from configuration), expiring sessions, login throttling.

Passwords are hashed with scrypt from the standard library, so no extra dependency is needed;
the hash string carries its parameters, so they can be raised later without breaking old
accounts. Sessions live in the console's memory: a restart logs everyone out, which is fine for
a handful of staff and keeps session secrets out of any file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 10


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """`scrypt$n$r$p$salt$hash`: the format stored in the accounts file."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when the password matches; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# Verified against when the user name is unknown, so the answer takes as long as for a real one.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


def parse_accounts(text: str, source: str) -> dict[str, str]:
    """`name:hash` entries separated by newlines, commas or spaces; `#` starts a comment."""
    accounts: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0]
        for entry in re.split(r"[\s,]+", line.strip()):
            if not entry:
                continue
            name, sep, stored = entry.partition(":")
            if not sep or not USERNAME.match(name) or not stored.startswith("scrypt$"):
                found = entry[:20]
                raise ValueError(f"{source}:{line_no}: expected name:scrypt$..., got {found!r}")
            accounts[name] = stored
    return accounts


def load_accounts(accounts_file: Path, inline: str = "") -> dict[str, str]:
    """Accounts from the file (if it exists) and the inline setting (which wins on a clash)."""
    accounts: dict[str, str] = {}
    if accounts_file.exists():
        accounts.update(parse_accounts(accounts_file.read_text(), str(accounts_file)))
    if inline:
        accounts.update(parse_accounts(inline, "CONSOLE_ACCOUNTS"))
    return accounts


def add_account(accounts_file: Path, name: str, password: str) -> None:
    """Add or replace one account in the file; the file is readable by its owner only."""
    if not USERNAME.match(name):
        raise ValueError("user name: 1-64 letters, digits, '.', '_', '@' or '-'")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    lines = accounts_file.read_text().splitlines() if accounts_file.exists() else []
    lines = [ln for ln in lines if ln.split(":", 1)[0].strip() != name]
    lines.append(f"{name}:{hash_password(password)}")
    accounts_file.parent.mkdir(parents=True, exist_ok=True)
    partial = accounts_file.with_name(accounts_file.name + ".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.chmod(0o600)
    partial.replace(accounts_file)


class Authenticator:
    """Checks a name and password against the accounts (re-read when the file changes)."""

    def __init__(self, accounts_file: Path, inline: str = "") -> None:
        self.accounts_file = accounts_file
        self.inline = inline
        self._stamp: float | None = None
        self._accounts = load_accounts(accounts_file, inline)
        self._stamp = self._mtime()

    def _mtime(self) -> float | None:
        try:
            return self.accounts_file.stat().st_mtime
        except OSError:
            return None

    @property
    def accounts(self) -> dict[str, str]:
        if self._mtime() != self._stamp:  # `add-user` while the console runs takes effect
            self._accounts = load_accounts(self.accounts_file, self.inline)
            self._stamp = self._mtime()
        return self._accounts

    def check(self, name: str, password: str) -> bool:
        """True for a known name with its password; as slow for an unknown name."""
        stored = self.accounts.get(name)
        ok = verify_password(password, stored or _DUMMY_HASH)
        return ok and stored is not None


@dataclass
class Session:
    user: str
    csrf: str
    created: float
    last_seen: float


@dataclass
class SessionStore:
    """Random session ids -> sessions that end after an idle time and a maximum age."""

    idle_seconds: float
    max_seconds: float
    clock: Callable[[], float] = time.monotonic
    sessions: dict[str, Session] = field(default_factory=dict)

    def create(self, user: str) -> str:
        """A new session for a user who just logged in; returns its id."""
        self._sweep()
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        self.sessions[sid] = Session(user, secrets.token_urlsafe(32), now, now)
        return sid

    def get(self, sid: str | None) -> Session | None:
        """The live session for an id (and its idle timer restarted), or None."""
        if not sid:
            return None
        session = self.sessions.get(sid)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.idle_seconds or now - session.created > self.max_seconds:
            del self.sessions[sid]
            return None
        session.last_seen = now
        return session

    def end(self, sid: str | None) -> None:
        if sid:
            self.sessions.pop(sid, None)

    def _sweep(self) -> None:
        now = self.clock()
        for sid, s in list(self.sessions.items()):
            if now - s.last_seen > self.idle_seconds or now - s.created > self.max_seconds:
                del self.sessions[sid]


@dataclass
class LoginThrottle:
    """After `limit` failed logins for one name within `window` seconds, refuse that name."""

    limit: int = 5
    window: float = 900
    clock: Callable[[], float] = time.monotonic
    failures: dict[str, list[float]] = field(default_factory=dict)

    def blocked(self, name: str) -> bool:
        """Whether this name has too many recent failures to try again now."""
        now = self.clock()
        recent = [t for t in self.failures.get(name, []) if now - t < self.window]
        self.failures[name] = recent
        return len(recent) >= self.limit

    def failed(self, name: str) -> None:
        if len(self.failures) > 10_000:  # names are attacker-chosen: keep only recent ones
            now = self.clock()
            self.failures = {
                n: ts for n, ts in self.failures.items() if ts and now - ts[-1] < self.window
            }
        self.failures.setdefault(name, []).append(self.clock())

    def succeeded(self, name: str) -> None:
        self.failures.pop(name, None)
