"""Staff accounts (hashed passwords from configuration), expiring sessions, login throttling.

Passwords are hashed with argon2id (argon2-cffi, RFC 9106's low-memory profile: 64 MiB, t=3,
p=4). Hashes made before it (scrypt, `scrypt$n$r$p$salt$hash`) still verify, and the next
successful login replaces them with argon2id in the accounts file. Sessions live in the
console's memory: a restart logs everyone out, which is fine for a handful of staff and keeps
session secrets out of any file. A session remembers a fingerprint of its account's password
hash, so it ends as soon as the account is removed or its password changes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MIN_PASSWORD = 10
ARGON2_PREFIX = "$argon2id$"
SCRYPT_PREFIX = "scrypt$"
# Entries of a line are separated by whitespace, or by a comma that starts a new `name:`
# (argon2 hashes have commas of their own: `$argon2id$v=19$m=65536,t=3,p=4$...`).
ENTRY_SEPARATOR = re.compile(r"\s+|,\s*(?=[A-Za-z0-9._@-]{1,64}:)|,\s*$")
# Enough for the scrypt parameters we ever wrote (n=2^14) and well beyond (OpenSSL's own
# default of 32 MiB refuses n=2^15 with r=8, which is why raising n used to fail).
SCRYPT_MAXMEM = 1024 * 1024 * 1024

HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
logger = logging.getLogger(__name__)


def hash_password(password: str) -> str:
    """An argon2id hash with its parameters and salt: the format stored in the accounts file."""
    return HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """True when the password matches an argon2id or a legacy scrypt hash; malformed: False."""
    if stored.startswith(ARGON2_PREFIX):
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    if stored.startswith(SCRYPT_PREFIX):
        return _verify_scrypt(password, stored)
    return False


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=min(SCRYPT_MAXMEM, 129 * int(n) * int(r) * int(p) + 1024 * 1024),
        )
    except (ValueError, TypeError, OverflowError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a (verified) hash should be replaced: scrypt, or argon2id with old parameters."""
    if not stored.startswith(ARGON2_PREFIX):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def fingerprint(stored: str) -> str:
    """A short digest of a password hash: changes when the password does (session checks)."""
    return hashlib.sha256(stored.encode()).hexdigest()[:32]


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the user name is unknown, so the answer takes as long as for a
    real one. Made at the first login, not at import: every console command imports this module
    and most never check a password (one argon2id hash costs about half a second)."""
    return hasher.hash(secrets.token_hex(16))


def parse_accounts(text: str, source: str) -> dict[str, str]:
    """`name:hash` entries separated by newlines, commas or spaces; `#` starts a comment."""
    accounts: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0]
        for entry in ENTRY_SEPARATOR.split(line.strip()):
            if not entry:
                continue
            name, sep, stored = entry.partition(":")
            known = stored.startswith((ARGON2_PREFIX, SCRYPT_PREFIX))
            if not sep or not USERNAME.match(name) or not known:
                found = entry[:20]
                raise ValueError(
                    f"{source}:{line_no}: expected name:$argon2id$... (or name:scrypt$...), "
                    f"got {found!r}"
                )
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


def _write_accounts(accounts_file: Path, lines: list[str]) -> None:
    """Replace the file in one step; it is readable by its owner only."""
    accounts_file.parent.mkdir(parents=True, exist_ok=True)
    partial = accounts_file.with_name(accounts_file.name + ".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.chmod(0o600)
    partial.replace(accounts_file)


def add_account(accounts_file: Path, name: str, password: str) -> None:
    """Add or replace one account in the file; the file is readable by its owner only."""
    if not USERNAME.match(name):
        raise ValueError("user name: 1-64 letters, digits, '.', '_', '@' or '-'")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password: at least {MIN_PASSWORD} characters")
    lines = accounts_file.read_text().splitlines() if accounts_file.exists() else []
    lines = [ln for ln in lines if ln.split(":", 1)[0].strip() != name]
    lines.append(f"{name}:{hash_password(password)}")
    _write_accounts(accounts_file, lines)


def replace_hash(accounts_file: Path, name: str, old: str, new: str) -> bool:
    """Swap one account's hash for a new one of the same password (upgrade at login).

    Only a line that still holds `old` changes, so a password changed meanwhile with
    `add-user` is never overwritten. Returns whether the file changed.
    """
    if not accounts_file.exists():
        return False
    lines = accounts_file.read_text().splitlines()
    target = f"{name}:{old}"
    changed = [f"{name}:{new}" if ln.strip() == target else ln for ln in lines]
    if changed == lines:
        return False
    _write_accounts(accounts_file, changed)
    return True


class Authenticator:
    """Checks a name and password against the accounts (re-read when the file changes)."""

    def __init__(self, accounts_file: Path, inline: str = "") -> None:
        self.accounts_file = accounts_file
        self.inline = inline
        self._inline_names = set(parse_accounts(inline, "CONSOLE_ACCOUNTS")) if inline else set()
        self._stamp: tuple[int, int] | None = None
        self._accounts = load_accounts(accounts_file, inline)
        self._stamp = self._mtime()
        # new hash -> the hash it replaced at login: the same password, so sessions stay valid
        self._upgraded: dict[str, str] = {}

    def _mtime(self) -> tuple[int, int] | None:
        try:
            stat = self.accounts_file.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    @property
    def accounts(self) -> dict[str, str]:
        if self._mtime() != self._stamp:  # `add-user` while the console runs takes effect
            self._accounts = load_accounts(self.accounts_file, self.inline)
            self._stamp = self._mtime()
        return self._accounts

    def check(self, name: str, password: str) -> bool:
        """True for a known name with its password; as slow for an unknown name.

        A correct password whose hash is scrypt (or argon2id with older parameters) is
        rehashed with the current argon2id parameters and saved in the accounts file.
        """
        stored = self.accounts.get(name)
        ok = verify_password(password, stored or _dummy_hash(HASHER))
        if ok and stored is not None and needs_rehash(stored):
            self._rehash(name, password, stored)
        return ok and stored is not None

    def _rehash(self, name: str, password: str, stored: str) -> None:
        if name in self._inline_names:
            logger.warning(
                "console: account %r in CONSOLE_ACCOUNTS has an outdated password hash; "
                "replace it with the output of `python -m console hash-password`",
                name,
            )
            return
        new = hash_password(password)
        if replace_hash(self.accounts_file, name, stored, new):
            self._upgraded[new] = self._upgraded.get(stored, stored)
            logger.info("console: password hash of %r upgraded to argon2id", name)

    def version(self, name: str) -> str | None:
        """The account's password generation (None once it is removed): sessions compare it."""
        stored = self.accounts.get(name)
        if stored is None:
            return None
        return fingerprint(self._upgraded.get(stored, stored))


@dataclass
class Session:
    user: str
    csrf: str
    created: float
    last_seen: float
    version: str | None = None


@dataclass
class SessionStore:
    """Random session ids -> sessions that end after an idle time and a maximum age.

    With `account_version` (Authenticator.version), a session also ends when its account is
    removed or its password changes: the version is taken at login and compared on each use.
    """

    idle_seconds: float
    max_seconds: float
    clock: Callable[[], float] = time.monotonic
    sessions: dict[str, Session] = field(default_factory=dict)
    account_version: Callable[[str], str | None] | None = None

    def create(self, user: str) -> str:
        """A new session for a user who just logged in; returns its id."""
        self._sweep()
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        version = self.account_version(user) if self.account_version else None
        self.sessions[sid] = Session(user, secrets.token_urlsafe(32), now, now, version)
        return sid

    def get(self, sid: str | None) -> Session | None:
        """The live session for an id (and its idle timer restarted), or None."""
        if not sid:
            return None
        session = self.sessions.get(sid)
        if session is None:
            return None
        if self._expired(session, self.clock()) or not self._account_unchanged(session):
            del self.sessions[sid]
            return None
        session.last_seen = self.clock()
        return session

    def end(self, sid: str | None) -> None:
        if sid:
            self.sessions.pop(sid, None)

    def _expired(self, session: Session, now: float) -> bool:
        return (
            now - session.last_seen > self.idle_seconds or now - session.created > self.max_seconds
        )

    def _account_unchanged(self, session: Session) -> bool:
        if self.account_version is None:
            return True
        current = self.account_version(session.user)
        return current is not None and current == session.version

    def _sweep(self) -> None:
        now = self.clock()
        for sid, s in list(self.sessions.items()):
            if self._expired(s, now):
                del self.sessions[sid]


@dataclass
class _Failures:
    count: int
    last: float


@dataclass
class LoginThrottle:
    """Growing delays after failed logins, per client address and per account name.

    Each address and each name may fail `free` times; after that an attempt waits
    `base * 2**(failures - free)` seconds (at most `cap`) after the latest failure, and the
    failures are forgotten `forget` seconds after it. A name's delay applies only to the
    addresses that failed for that name: the right password from another address is always
    checked, so nobody can lock staff out by guessing (each guesser is slowed by its own
    address's delay, and by the name's as soon as it fails for it once).
    """

    free: int = 5
    base: float = 1.0
    cap: float = 900.0
    forget: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    by_address: dict[str, _Failures] = field(default_factory=dict)
    by_name: dict[str, _Failures] = field(default_factory=dict)
    pairs: dict[tuple[str, str], float] = field(default_factory=dict)  # (name, addr) -> last

    def delay(self, failures: int) -> float:
        """How long to wait after the latest of `failures` failures."""
        if failures < self.free:
            return 0.0
        return min(self.cap, self.base * 2.0 ** min(failures - self.free, 64))

    def _remaining(self, record: _Failures | None, now: float) -> float:
        if record is None or now - record.last >= self.forget:
            return 0.0
        return max(0.0, record.last + self.delay(record.count) - now)

    def wait(self, name: str, address: str) -> float:
        """Seconds before this address may try this name again; 0 = check the password now."""
        now = self.clock()
        waits = [self._remaining(self.by_address.get(address), now)]
        last = self.pairs.get((name, address))
        if last is not None and now - last < self.forget:
            waits.append(self._remaining(self.by_name.get(name), now))
        return max(waits)

    def retry_after(self, name: str, address: str) -> int:
        """`wait` rounded up to whole seconds, for the Retry-After header."""
        return max(1, math.ceil(self.wait(name, address)))

    def failed(self, name: str, address: str) -> None:
        """Count a wrong password (or unknown name) for the name and the address."""
        now = self.clock()
        self._prune(now)
        for table, key in ((self.by_address, address), (self.by_name, name)):
            record = table.get(key)
            if record is None or now - record.last >= self.forget:
                table[key] = _Failures(1, now)
            else:
                record.count += 1
                record.last = now
        self.pairs[(name, address)] = now

    def succeeded(self, name: str, address: str) -> None:
        """The right password: this name and address start afresh."""
        self.by_name.pop(name, None)
        self.by_address.pop(address, None)
        for pair in [p for p in self.pairs if p[0] == name or p[1] == address]:
            del self.pairs[pair]

    def _prune(self, now: float) -> None:
        """Names and addresses are attacker-chosen: keep only recent ones when there are many."""
        if max(len(self.by_address), len(self.by_name), len(self.pairs)) <= 10_000:
            return
        self.by_address = {k: r for k, r in self.by_address.items() if now - r.last < self.forget}
        self.by_name = {k: r for k, r in self.by_name.items() if now - r.last < self.forget}
        self.pairs = {k: t for k, t in self.pairs.items() if now - t < self.forget}
