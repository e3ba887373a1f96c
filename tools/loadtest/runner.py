"""The run: a plan (how many conversations, turns, how fast), all conversations at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass

import aiohttp

from tools.loadtest.clients import rest_conversation, rest_turn, socketio_conversation
from tools.loadtest.results import (
    MAX_BURST,
    MAX_CONVERSATIONS,
    MAX_TIME_LIMIT,
    MAX_TURNS,
    MESSAGES,
    REQUEST_TIMEOUT,
    Conversation,
    Turn,
    require_loopback,
)
from tools.progress import progress_bar


@dataclass
class LoadPlan:
    conversations: int = 10
    turns: int = 5
    socketio: int = 0  # how many of the conversations use socket.io instead of REST
    time_limit: float = 120.0
    think: float = 0.0
    burst: int = 1

    def validate(self) -> None:
        if not 1 <= self.conversations <= MAX_CONVERSATIONS:
            raise SystemExit(f"error: conversations must be 1..{MAX_CONVERSATIONS}")
        if not 1 <= self.turns <= MAX_TURNS:
            raise SystemExit(f"error: turns must be 1..{MAX_TURNS}")
        if not 0 <= self.socketio <= self.conversations:
            raise SystemExit("error: socket.io conversations must be 0..conversations")
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise SystemExit(f"error: time limit must be in (0, {MAX_TIME_LIMIT:.0f}] s")
        if not 1 <= self.burst <= MAX_BURST:
            raise SystemExit(f"error: burst must be 1..{MAX_BURST}")

    @property
    def planned_turns(self) -> int:
        rest = self.conversations - self.socketio
        return rest * self.turns * self.burst + self.socketio * self.turns


def texts_for(conversation: int, turns: int) -> list[str]:
    return [MESSAGES[(conversation + t) % len(MESSAGES)] for t in range(turns)]


async def report_progress(conversations: list[Conversation], total: int) -> None:
    """Once a second until cancelled: turns finished, turns/s in the last second, errors."""
    bar = progress_bar(total, "load test", unit="turn")
    previous = 0
    try:
        while True:
            await asyncio.sleep(1.0)
            turns = [t for c in conversations for t in c.turns]
            done = sum(t.finished for t in turns)
            errors = sum(t.error is not None for t in turns)
            bar.update(done - bar.n)
            bar.set_postfix_str(f"{done - previous} turns/s, {errors} errors so far")
            previous = done
    finally:
        bar.close()


async def run_load(
    urls: list[str], plan: LoadPlan, origin: str, prefix: str = "load", progress: bool = False
) -> tuple[list[Conversation], float]:
    """All conversations at once; new turns stop at the time limit. Returns them and the time.

    With `progress`, a bar on stderr shows the turns done, turns/s and errors every second.
    """
    plan.validate()
    for url in urls:
        require_loopback(url)
    run_id = uuid.uuid4().hex[:8]
    # A connection per request, like nginx to its upstreams (no upstream keepalive): a Rasa
    # instance that is shutting down then gets no new requests on old connections.
    connector = aiohttp.TCPConnector(limit=plan.conversations * plan.burst + 10, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        # Each instance's first turns are slow (lazy loading); measure the steady state.
        for i, url in enumerate(urls):
            for text in MESSAGES[:3]:
                await rest_turn(http, [url], 0, f"warmup-{run_id}-{i}", Turn(-1, text, i))
        deadline = time.monotonic() + plan.time_limit
        started = time.monotonic()
        conversations: list[Conversation] = []
        jobs = []
        for c in range(plan.conversations):
            texts = texts_for(c, plan.turns)
            if c < plan.socketio:
                conversation = Conversation("", "socketio")  # the server issues the id
                job = socketio_conversation(
                    urls, origin, conversation, texts, c, deadline, plan.think, http
                )
            else:
                sender = f"{prefix}-{run_id}-{c:03d}"
                conversation = Conversation(sender, "rest", ordered=plan.burst == 1)
                job = rest_conversation(
                    http, urls, conversation, texts, c, deadline, plan.think, plan.burst
                )
            conversations.append(conversation)
            jobs.append(job)
        ticker = (
            asyncio.create_task(report_progress(conversations, plan.planned_turns))
            if progress
            else None
        )
        try:
            await asyncio.wait_for(
                asyncio.gather(*jobs), plan.time_limit + 2 * REQUEST_TIMEOUT + 10
            )
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
    return conversations, time.monotonic() - started
