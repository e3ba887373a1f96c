"""Knowledge suggestions: a service's current texts for the form, proposing a question, alias
or text fix (from the inbox or the form), the list, and an admin's accept or reject.

A change the corpus validator refuses is a 400 whose `problems` are the validator's own
(file, line, field, reason), as `python -m knowledge validate` prints them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from aiohttp import web

from console.context import CONSOLE, SESSION, json_error, project_relative
from console.corpus_edit import TEXT_FIELDS, Change, InvalidChange, organisation_file
from console.inbox import REFRESH_WAIT
from console.suggestions import Conflict, Source
from console.views.inbox import BadRequest, _body, _known, _resolved
from knowledge.loader import SAFE_LOADER

MAX_REASON = 1000


def _invalid(status: int, error: InvalidChange) -> web.Response:
    problems = [
        {"file": project_relative(p.file), "line": p.line, "field": p.field, "reason": p.reason}
        for p in error.problems
    ]
    return web.json_response(
        {"error": f"the corpus validator refused the change: {error}", "problems": problems},
        status=status,
    )


def _public(request: web.Request, item: dict[str, Any]) -> dict[str, Any]:
    """A suggestion as the API shows it, with the path of its patch file."""
    path = request.app[CONSOLE].suggestions.patch_file(item["id"])
    return {**item, "patch_file": project_relative(path)}


def _number(request: web.Request) -> int:
    try:
        return int(request.match_info["number"])
    except ValueError:
        raise web.HTTPNotFound(text="no such suggestion") from None


async def service(request: web.Request) -> web.Response:
    """A service's texts and questions as its organisation file has them (the form's start)."""
    console = request.app[CONSOLE]
    service_id = request.match_info["service_id"]
    try:
        path = organisation_file(console.project.corpus_dir, service_id)
    except LookupError as error:
        return json_error(404, str(error))
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    found = next((s for s in data.get("services") or [] if s.get("id") == service_id), None)
    if found is None:
        return json_error(404, f"no service {service_id[:80]!r} in the corpus")
    return web.json_response(
        {
            "id": service_id,
            "file": project_relative(path),
            "texts": {f: found[f] for f in TEXT_FIELDS if isinstance(found.get(f), dict)},
            "questions": found.get("questions") or {},
        }
    )


async def _source(request: web.Request, body: dict[str, Any]) -> Source | None:
    """The inbox message named by `source`, checked to exist; None when the body has none."""
    raw = body.get("source")
    if raw is None:
        return None
    turn = raw.get("turn") if isinstance(raw, dict) else None
    conversation = raw.get("conversation") if isinstance(raw, dict) else None
    if not isinstance(conversation, str) or not isinstance(turn, int) or isinstance(turn, bool):
        raise BadRequest('source: expected {"conversation": "c-...", "turn": n}')
    await asyncio.to_thread(request.app[CONSOLE].inbox.refresh, wait=REFRESH_WAIT)
    await _known(request, _resolved(request, [(conversation, turn)]))
    return Source(conversation, turn)


async def propose(request: web.Request) -> web.Response:
    """Validate a change against the corpus and store it, with its patch, as pending."""
    console = request.app[CONSOLE]
    try:
        body = await _body(request)
        change = Change.from_json(body)
        reason = body.get("reason") or ""
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            raise BadRequest(f"reason: a text of at most {MAX_REASON} characters")
        if change.kind == "text" and not reason.strip():
            raise BadRequest("reason: a text fix needs its source (the page that says so)")
        source = await _source(request, body)
        item = await asyncio.to_thread(
            console.suggestions.propose, change, reason.strip(), request[SESSION].user, source
        )
    except InvalidChange as error:
        return _invalid(400, error)
    except LookupError as error:  # an unknown service, or message (UnknownMessage)
        return json_error(404, str(error))
    except ValueError as error:
        return json_error(400, str(error))
    return web.json_response(_public(request, item))


async def listed(request: web.Request) -> web.Response:
    """Suggestions newest first, by status (pending, accepted, rejected; empty = all)."""
    suggestions = request.app[CONSOLE].suggestions
    try:
        items = suggestions.listed(request.query.get("status", ""))
    except ValueError as error:
        return json_error(400, str(error))
    return web.json_response(
        {"items": [_public(request, i) for i in items], "counts": suggestions.counts()}
    )


async def accept(request: web.Request) -> web.Response:
    """Apply a pending suggestion to the corpus file (admins)."""
    console = request.app[CONSOLE]
    number = _number(request)
    try:
        item = await asyncio.to_thread(console.suggestions.accept, number, request[SESSION].user)
    except InvalidChange as error:
        return _invalid(409, error)
    except Conflict as error:
        return json_error(409, str(error))
    except LookupError as error:
        return json_error(404, str(error))
    console.project.corpus_changed()  # a fixed title shows in the menus at once
    return web.json_response(_public(request, item))


async def reject(request: web.Request) -> web.Response:
    """Close a pending suggestion without changing the corpus (admins), with a note why."""
    console = request.app[CONSOLE]
    number = _number(request)
    try:
        body = await _body(request)
        note = body.get("note") or ""
        if not isinstance(note, str) or len(note) > MAX_REASON:
            raise BadRequest(f"note: a text of at most {MAX_REASON} characters")
        item = console.suggestions.reject(number, request[SESSION].user, note.strip())
    except Conflict as error:
        return json_error(409, str(error))
    except LookupError as error:
        return json_error(404, str(error))
    except ValueError as error:
        return json_error(400, str(error))
    return web.json_response(_public(request, item))
