"""Review and improve: the conversation list, a transcript, corrections and the export.

Conversations come from the tracker store (masked by console.conversations); corrections live in
the console's own state; the export writes test story, NLU examples and questions to files.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from console.context import CONSOLE, SESSION, json_error, page_params, project_relative
from console.conversations import build_turns, with_corrections
from console.export import build_export
from console.listing import Filters, select
from console.pseudonyms import is_pseudonym
from console.tags import CONVERSATION


async def _sender(request: web.Request) -> tuple[str, str]:
    """(sender id, keyed hash) of the conversation the URL names by its keyed hash.

    Pages and links only ever carry the hash (console.pseudonyms); a raw sender id in the URL
    is refused, so nobody can look a person's conversation up by their Telegram id.
    """
    conversation = request.match_info["sender_id"]
    if not is_pseudonym(conversation):
        raise web.HTTPBadRequest(text="bad conversation id (expected c- and 16 hex digits)")
    sender = await asyncio.to_thread(request.app[CONSOLE].index.sender_of, conversation)
    if sender is None:
        raise web.HTTPNotFound(text="no such conversation")
    return sender, conversation


async def conversations(request: web.Request) -> web.Response:
    """The filtered list, newest first, one page of it, with the filter menus' values."""
    console = request.app[CONSOLE]
    try:
        filters = Filters.from_query(request.query)
        limit, offset = page_params(request.query)
    except ValueError as error:
        return json_error(400, str(error))
    summaries = await asyncio.to_thread(console.index.refresh)
    found = select(summaries, filters, console.tz)
    facets = {
        "channels": sorted({c for s in summaries.values() for c in s.channels}),
        "languages": sorted({lang for s in summaries.values() for lang in s.languages}),
        "intents": sorted({i for s in summaries.values() for i in s.intents}),
    }
    page = found[offset : offset + limit]
    tags = console.tags.of(s.sender_id for s in page)
    items = []
    for summary in page:
        item = summary.as_json(console.tz)
        item["tags"] = _names(tags.get((summary.sender_id, CONVERSATION), []))
        item["message_tags"] = sorted(
            {t["tag"] for (sender, turn), found_tags in tags.items() for t in found_tags
             if sender == summary.sender_id and turn != CONVERSATION}
        )  # fmt: skip
        items.append(item)
    return web.json_response(
        {
            "total": len(found),
            "offset": offset,
            "limit": limit,
            "items": items,
            "facets": facets,
        }
    )


def _names(tags: list[dict[str, object]]) -> list[str]:
    return [str(t["tag"]) for t in tags]


async def transcript(request: web.Request) -> web.Response:
    """One conversation's turns from the tracker store, with its corrections."""
    console = request.app[CONSOLE]
    sender, conversation = await _sender(request)
    events = await asyncio.to_thread(console.store.events, sender)
    if not events:
        return json_error(404, "no such conversation")
    summaries = await asyncio.to_thread(console.index.refresh)
    summary = summaries.get(sender)
    turns = with_corrections(build_turns(events), console.state.corrections(sender))
    tags = console.tags.of([sender])
    for turn in turns:
        turn["tags"] = (
            _names(tags.get((sender, turn["index"]), [])) if turn["index"] is not None else []
        )
    return web.json_response(
        {
            "conversation": conversation,
            "summary": summary.as_json(console.tz) if summary else None,
            "tags": _names(tags.get((sender, CONVERSATION), [])),
            "turns": turns,
        }
    )


async def correct(request: web.Request) -> web.Response:
    """Save (or clear) a turn's right intent and/or organisation."""
    console = request.app[CONSOLE]
    sender, _ = await _sender(request)
    try:
        body = await request.json()
        turn = int(body["turn"])
        intent = body.get("intent") or None
        organisation = body.get("organisation") or None
    except (ValueError, KeyError, TypeError):
        return json_error(400, 'expected JSON {"turn": n, "intent": ..., "organisation": ...}')
    if intent is not None and intent not in console.project.intents:
        return json_error(400, f"unknown intent {str(intent)[:50]!r}")
    known = {o["id"] for o in console.project.organisations}
    if organisation is not None and organisation not in known:
        return json_error(400, f"unknown organisation {str(organisation)[:50]!r}")
    events = await asyncio.to_thread(console.store.events, sender)
    users = sum(1 for e in events if e.get("event") == "user")
    if not 0 <= turn < users:
        return json_error(404, "no such turn in this conversation")
    console.state.correct(sender, turn, intent, organisation, request[SESSION].user)
    saved = console.state.corrections(sender).get(turn)
    return web.json_response({"turn": turn, "correction": saved})


async def export(request: web.Request) -> web.Response:
    """Write the conversation's story, NLU examples and questions; return them."""
    console = request.app[CONSOLE]
    sender, conversation = await _sender(request)
    events = await asyncio.to_thread(console.store.events, sender)
    if not events:
        return json_error(404, "no such conversation")
    turns = build_turns(events, raw=True)
    result = build_export(conversation, turns, console.state.corrections(sender), console.project)
    cfg = console.config
    paths = result.write(cfg.stories_dir, cfg.nlu_dir, cfg.questions_dir)
    return web.json_response(
        {
            "paths": {k: project_relative(Path(v)) for k, v in paths.items()},
            "story": result.story,
            "nlu": result.nlu,
            "questions": result.questions,
            "notes": result.notes,
        }
    )
