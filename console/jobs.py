"""Work the running console does in the background, started and stopped with the app.

Each job is an aiohttp cleanup context: the code before `yield` runs at start-up, the code after
it at shutdown. make_app registers every job in JOBS.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from console.context import CONSOLE
from console.retention import DAY, purge


async def retention_task(app: web.Application) -> AsyncIterator[None]:
    """With CONSOLE_RETENTION_DAYS set, purge at start-up and then once a day while running."""
    console = app[CONSOLE]
    days = console.config.retention_days

    async def loop() -> None:
        while True:
            result = await asyncio.to_thread(purge, console.store, console.state, days)
            if result.conversations:
                print(f"[console] retention: deleted {len(result.conversations)} conversation(s)")
            await asyncio.sleep(DAY)

    task = asyncio.create_task(loop()) if days > 0 else None
    if task is not None:
        await asyncio.sleep(0)  # let the first purge start before the first request
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def inbox_task(app: web.Application) -> AsyncIterator[None]:
    """Build or catch up the inbox's message table at start-up, so the first page is quick."""
    console = app[CONSOLE]
    task = asyncio.create_task(asyncio.to_thread(console.inbox.refresh))
    yield
    console.inbox.stop()
    with contextlib.suppress(Exception):
        await task


JOBS: list[Callable[[web.Application], AsyncIterator[None]]] = [retention_task, inbox_task]
