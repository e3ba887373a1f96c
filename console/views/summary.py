"""The summary page's numbers: conversations and fallback rate per day, top unanswered
questions, answers per organisation, the language mix."""

from __future__ import annotations

import asyncio

from aiohttp import web

from console.context import CONSOLE, json_error
from console.listing import Filters, select
from console.stats import summary_stats


async def stats(request: web.Request) -> web.Response:
    """The summary page's numbers for the filtered conversations."""
    console = request.app[CONSOLE]
    try:
        filters = Filters.from_query(request.query)
    except ValueError as error:
        return json_error(400, str(error))
    summaries = await asyncio.to_thread(console.index.refresh)
    names = {o["id"]: o["name"] for o in console.project.organisations}
    chosen = select(summaries, filters, console.tz)
    return web.json_response(summary_stats(chosen, console.tz, names))
