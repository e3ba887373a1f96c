"""Accounts and their roles, for admins: who may read, annotate, or administer.

Passwords stay with `python -m console add-user` (they are typed at a terminal, never sent to
the console); here an admin sees every account and changes its role.
"""

from __future__ import annotations

from aiohttp import web

from console.context import CONSOLE, SESSION, json_error
from console.roles import Role


async def list_accounts(request: web.Request) -> web.Response:
    """Every account with its role and, if set in the console, who set it."""
    console = request.app[CONSOLE]
    assigned = console.roles.assigned()
    return web.json_response(
        {
            "roles": [r.label for r in Role],
            "accounts": [
                {
                    "name": name,
                    "role": console.roles.role_of(name).label,
                    "set_by": (assigned.get(name) or {}).get("author"),
                }
                for name in sorted(console.auth.accounts)
            ],
        }
    )


async def set_role(request: web.Request) -> web.Response:
    """Give an existing account a role; an admin cannot demote themself (no lock-out)."""
    console = request.app[CONSOLE]
    name = request.match_info["account"]
    try:
        body = await request.json()
        value = body["role"]
    except (ValueError, KeyError, TypeError):
        return json_error(400, 'expected JSON {"role": "viewer" | "annotator" | "admin"}')
    try:
        role = Role.parse(str(value))
    except ValueError as error:
        return json_error(400, str(error))
    if name not in console.auth.accounts:
        return json_error(404, "no such account")
    user = request[SESSION].user
    if name == user and role is not Role.ADMIN:
        return json_error(400, "you cannot take the admin role from yourself")
    console.roles.set_role(name, role, user)
    return web.json_response({"name": name, "role": role.label})
