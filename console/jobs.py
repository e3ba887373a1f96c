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
from console.retention import DAY, purge_round


async def retention_task(app: web.Application) -> AsyncIterator[None]:
    """Purge conversations older than CONSOLE_RETENTION_DAYS at start-up, then once a day.

    A failed round is logged by purge_round and the loop carries on to the next one.
    """
    console = app[CONSOLE]
    days = console.config.retention_days

    async def loop() -> None:
        while True:
            await asyncio.to_thread(purge_round, console.store, console.state, days)
            await asyncio.sleep(DAY)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # let the first purge start before the first request
    yield
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


async def training_job(app: web.Application) -> AsyncIterator[None]:
    """A model training started in the console is stopped (its subprocess killed) at shutdown."""
    yield
    await app[CONSOLE].trainer.stop()


JOBS: list[Callable[[web.Application], AsyncIterator[None]]] = [
    retention_task,
    inbox_task,
    training_job,
]
