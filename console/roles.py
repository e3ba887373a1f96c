"""Roles: what each staff account may do in the console.

Three levels, each including the one below: a viewer reads (transcripts, the inbox, the
summary, Try it); an annotator also annotates, tags, corrects and exports; an admin also
manages accounts' roles (and, later, trains and publishes models). Every route in
console.routes names the least role it needs; console.middlewares checks it per request, so a
role change takes effect at once, without logging out.

Roles live in the console's own SQLite file (CONSOLE_STATE_DB), set with `python -m console
set-role NAME ROLE` or by an admin in the console; CONSOLE_ROLES (`name:role`, separated by
spaces or commas) gives roles for container secrets. An account with no role is a viewer
(CONSOLE_DEFAULT_ROLE): a new account cannot change anything until someone gives it a role.
"""

from __future__ import annotations

import enum
import re
import time
from pathlib import Path

from console.state import StateFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS roles (
    user TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    author TEXT NOT NULL,
    updated REAL NOT NULL
)
"""


class Role(enum.IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1
    ANNOTATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        """'viewer' | 'annotator' | 'admin' (any case); ValueError with the choices otherwise."""
        try:
            return cls[value.strip().upper()]
        except KeyError:
            choices = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown role {value[:30]!r}: expected one of {choices}") from None


def parse_roles(text: str) -> dict[str, Role]:
    """`maija:admin, pekka:annotator` -> {"maija": ADMIN, ...}; ValueError on a bad entry."""
    roles: dict[str, Role] = {}
    for entry in re.split(r"[\s,]+", text.strip()):
        if not entry:
            continue
        name, sep, role = entry.rpartition(":")
        if not sep or not name:
            raise ValueError(f"CONSOLE_ROLES: expected name:role, got {entry[:40]!r}")
        roles[name] = Role.parse(role)
    return roles


class RoleBook(StateFile):
    """Each account's role: the console's store first, then CONSOLE_ROLES, then the default."""

    def __init__(self, path: Path, inline: str = "", default: str = "viewer") -> None:
        super().__init__(path, SCHEMA)
        self.inline = parse_roles(inline)
        self.default = Role.parse(default)

    def role_of(self, user: str) -> Role:
        with self._connect() as db:
            row = db.execute("SELECT role FROM roles WHERE user = ?", (user,)).fetchone()
        if row is not None:
            return Role.parse(row[0])
        return self.inline.get(user, self.default)

    def set_role(self, user: str, role: Role, author: str) -> None:
        """Give an account a role (stored, so it outranks CONSOLE_ROLES)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO roles (user, role, author, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user) DO UPDATE SET role = excluded.role, "
                "author = excluded.author, updated = excluded.updated",
                (user, role.label, author, time.time()),
            )

    def assigned(self) -> dict[str, dict[str, object]]:
        """user -> {"role", "author", "updated"} for roles set in the store."""
        with self._connect() as db:
            rows = db.execute("SELECT user, role, author, updated FROM roles").fetchall()
        return {u: {"role": r, "author": a, "updated": t} for u, r, a, t in rows}
