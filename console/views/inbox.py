"""The inbox API: messages across conversations, annotations (bulk, undoable), tags, export.

Requests name messages as {"conversation", "turn"}: the conversation's keyed hash, as the
list and transcripts show it (never a sender id, which for Telegram is a person's id; see
console/pseudonyms.py), and the user message's index in it. The inbox itself is keyed by sender
id; this module translates at the boundary. An unknown message fails the whole request with
404, so a bulk action never half-applies to a stale selection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from console.annotation_export import export_annotations
from console.annotations import Label, Target
from console.context import CONSOLE, SESSION, json_error, page_params, project_relative
from console.inbox import REFRESH_WAIT, InboxFilters
from console.tags import CONVERSATION, check_tag

MAX_SELECTION = 500  # messages per bulk action


class BadRequest(ValueError):
    """A request body that does not say what the API expects."""


def _refs(body: Any, key: str = "messages") -> list[tuple[str, int]]:
    """(conversation hash, turn) pairs from a request body, unresolved."""
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or len(items) > MAX_SELECTION:
        raise BadRequest(
            f'{key}: expected a list of up to {MAX_SELECTION} {{"conversation", "turn"}}'
        )
    refs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("conversation"), str):
            raise BadRequest(f'{key}: each item needs "conversation" and "turn"')
        turn = item.get("turn")
        if not isinstance(turn, int) or isinstance(turn, bool) or turn < 0:
            raise BadRequest(f"{key}: turn must be a whole number >= 0")
        refs.append((item["conversation"], turn))
    return list(dict.fromkeys(refs))


class UnknownMessage(LookupError):
    """A selected message or conversation the inbox does not have (deleted, or never there)."""


def _senders(request: web.Request, conversations: set[str]) -> dict[str, str]:
    """conversation hash -> sender id, for the conversations the inbox has; unknown ones 404."""
    console = request.app[CONSOLE]
    by_hash = {console.pseudonyms.of(s): s for s in console.inbox.senders()}
    unknown = sorted(conversations - set(by_hash))
    if unknown:
        raise UnknownMessage(f"no conversation {unknown[0][:60]!r}")
    return {c: by_hash[c] for c in conversations}


def _resolved(request: web.Request, refs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    senders = _senders(request, {c for c, _ in refs})
    return [(senders[c], t) for c, t in refs]


def _public(request: web.Request, row: dict[str, Any]) -> dict[str, Any]:
    """A row with the conversation's keyed hash in place of its sender id."""
    row = dict(row)
    row["conversation"] = request.app[CONSOLE].pseudonyms.of(row.pop("sender_id"))
    return row


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("expected a JSON body") from None
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    return body


async def messages(request: web.Request) -> web.Response:
    """One page of user messages, newest first, with their tags and current annotation."""
    console = request.app[CONSOLE]
    try:
        filters = InboxFilters.from_query(request.query)
        limit, offset = page_params(request.query)
    except ValueError as error:
        return json_error(400, str(error))
    fresh = await asyncio.to_thread(console.inbox.refresh, wait=REFRESH_WAIT) >= 0
    total, items = await asyncio.to_thread(
        console.inbox.page, filters, console.tz, console.config.low_confidence, limit, offset
    )
    refs = [(i["sender_id"], i["turn"]) for i in items]
    tags = console.tags.of(s for s, _ in refs)
    annotations = console.annotations.current(refs)
    for item, ref in zip(items, refs, strict=True):
        item["tags"] = [t["tag"] for t in tags.get(ref, [])]
        item["conversation_tags"] = [t["tag"] for t in tags.get((ref[0], CONVERSATION), [])]
        annotation = annotations.get(ref)
        item["annotation"] = _public(request, annotation) if annotation else None
    items = [_public(request, item) for item in items]
    facets = await asyncio.to_thread(console.inbox.facets)
    facets["tags"] = console.tags.names()
    return web.json_response(
        {
            "total": total,
            "offset": offset,
            "limit": limit,
            "low_confidence": console.config.low_confidence,
            "updating": not fresh,
            "items": items,
            "facets": facets,
        }
    )


async def _known(request: web.Request, refs: list[tuple[str, int]]) -> dict[Any, Any]:
    """The messages of (sender id, turn) refs; any missing one fails the request."""
    console = request.app[CONSOLE]
    found = console.inbox.messages(refs)
    missing = [r for r in refs if r not in found]
    if missing:
        sender, turn = missing[0]
        raise UnknownMessage(f"no message {turn} in conversation {console.pseudonyms.of(sender)!r}")
    return found


async def annotate(request: web.Request) -> web.Response:
    """Label one or many messages: intent, organisation/service, or out of scope."""
    console = request.app[CONSOLE]
    try:
        body = await _body(request)
        refs = _refs(body)
        label = Label.from_json(body, console.project)
    except ValueError as error:
        return json_error(400, str(error))
    if not refs:
        return json_error(400, "messages: select at least one")
    await asyncio.to_thread(console.inbox.refresh, wait=REFRESH_WAIT)
    try:
        refs = _resolved(request, refs)
        found = await _known(request, refs)
    except UnknownMessage as error:
        return json_error(404, str(error))
    targets = [Target(s, t, found[(s, t)]["text"], found[(s, t)]["language"]) for s, t in refs]
    count = console.annotations.annotate(targets, label, request[SESSION].user)
    return web.json_response(
        {"annotated": count, "annotations": _listed(request, console.annotations.current(refs))}
    )


async def undo(request: web.Request) -> web.Response:
    """Undo the latest annotation of each message (the one before applies again)."""
    console = request.app[CONSOLE]
    try:
        refs = _refs(await _body(request))
    except ValueError as error:
        return json_error(400, str(error))
    try:
        refs = _resolved(request, refs)
    except UnknownMessage as error:
        return json_error(404, str(error))
    count = console.annotations.undo(refs, request[SESSION].user)
    return web.json_response(
        {"undone": count, "annotations": _listed(request, console.annotations.current(refs))}
    )


def _listed(
    request: web.Request, current: dict[tuple[str, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    return [_public(request, current[k]) for k in sorted(current)]


async def export(request: web.Request) -> web.Response:
    """Write the NLU examples and labelled questions of every current annotation."""
    console = request.app[CONSOLE]
    cfg = console.config
    result, written = export_annotations(
        console.annotations.all_current(),
        console.project,
        cfg.annotated_nlu_dir,
        cfg.annotated_questions,
    )
    return web.json_response(
        {
            "examples": result.examples,
            "questions": result.questions,
            "written": [project_relative(p) for p in written],
            "files": {project_relative(p): t for p, t in result.files.items()},
            "notes": result.notes,
        }
    )


async def _tag_request(request: web.Request) -> tuple[str, list[tuple[str, int]]]:
    """The tag and its targets as (sender id, turn or CONVERSATION): BadRequest for a body that
    does not say what the API expects, UnknownMessage for a conversation the inbox lacks."""
    body = await _body(request)
    tag = check_tag(body.get("tag"))
    refs = _refs({"messages": body.get("messages", [])})
    conversations = body.get("conversations", [])
    if not isinstance(conversations, list) or not all(isinstance(c, str) for c in conversations):
        raise BadRequest("conversations: expected a list of conversation hashes (c-...)")
    if not refs and not conversations:
        raise BadRequest("select at least one message or conversation")
    return tag, _resolved(request, refs + [(c, CONVERSATION) for c in dict.fromkeys(conversations)])


async def add_tags(request: web.Request) -> web.Response:
    """Tag messages and/or whole conversations."""
    console = request.app[CONSOLE]
    await asyncio.to_thread(console.inbox.refresh, wait=REFRESH_WAIT)
    try:
        tag, refs = await _tag_request(request)
        await _known(request, [r for r in refs if r[1] != CONVERSATION])
    except ValueError as error:
        return json_error(400, str(error))
    except UnknownMessage as error:
        return json_error(404, str(error))
    added = console.tags.add(refs, tag, request[SESSION].user)
    return web.json_response({"tag": tag, "added": added})


async def remove_tags(request: web.Request) -> web.Response:
    """Take a tag off messages and/or whole conversations."""
    console = request.app[CONSOLE]
    try:
        tag, refs = await _tag_request(request)
    except ValueError as error:
        return json_error(400, str(error))
    except UnknownMessage as error:
        return json_error(404, str(error))
    return web.json_response({"tag": tag, "removed": console.tags.remove(refs, tag)})
