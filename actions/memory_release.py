"""Give the memory of finished requests back: to Python at once, to the OS from time to time.

Why (issue 15 item 3, docs/performance.md "Fourth pass"): every action call carries Rasa's whole
tracker (and, before the endpoint's selective domain, the whole domain: about 100 KB of JSON,
tens of thousands of small objects once parsed).
Sanic keeps each finished request reachable for several seconds more (its context variable
`Request._current` lives on in the connection's context until timers run out): 0.5 s after a
burst of turns 90 parsed action calls were still alive, 6 s after 61. Python's allocator then
needs new 1 MiB arenas for the next requests and keeps them: the action server's RSS climbed
from 200 MB after start-up to ~530 MB. So (1) the parsed body is dropped as soon as the
response is ready, and (2) glibc's `malloc_trim(0)` returns the free pages of its heap (also
those in the middle, which glibc keeps on its own) at most once every `interval` seconds, and
only when requests were served since.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import time
from collections.abc import Callable
from typing import Any

import pluggy

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")


def glibc_trim() -> Callable[[], int] | None:
    """glibc's malloc_trim(0), or None where the C library has none (musl, macOS). Looked up
    in the running process (dlopen(NULL)), not by name: no ldconfig needed in a slim image."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: int(trim(0))


class MemoryReleaser:
    """Counts served requests; `release_if_due` trims when requests were served and at least
    `interval` seconds passed since the last trim. Keeps the CPU the trims took."""

    def __init__(
        self,
        trim: Callable[[], int],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval <= 0:
            raise ValueError("the memory release interval must be positive")
        self.trim = trim
        self.interval = interval
        self.clock = clock
        self.pending = 0
        self.last = clock()
        self.trims = 0
        self.cpu_seconds = 0.0

    def request_served(self) -> None:
        self.pending += 1

    def release_if_due(self) -> bool:
        now = self.clock()
        if not self.pending or now - self.last < self.interval:
            return False
        started = time.process_time()
        self.trim()
        self.cpu_seconds += time.process_time() - started
        self.trims += 1
        self.pending = 0
        self.last = now
        return True

    async def run(self) -> None:
        """Check every `interval` seconds, for the server's lifetime."""
        while True:
            await asyncio.sleep(self.interval)
            self.release_if_due()


def forget_body(request: Any) -> None:
    """Drop a finished request's body and parsed JSON (rasa-sdk has read the action call and
    run the action by the time the response exists)."""
    request.parsed_json = None
    request.body = b""


class SanicMemoryRelease:
    """rasa-sdk plugin (its `attach_sanic_app_extensions` hook): on every response, forgets the
    request's body and counts it; runs the releaser, if any, beside the server."""

    def __init__(self, releaser: MemoryReleaser | None) -> None:
        self.releaser = releaser

    @hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        releaser = self.releaser

        async def finished(request: Any, response: Any) -> None:
            forget_body(request)
            if releaser is not None:
                releaser.request_served()

        app.register_middleware(finished, "response")
        if releaser is not None:

            async def start(app: Any) -> None:
                app.add_task(releaser.run())

            app.register_listener(start, "after_server_start")


def install(interval: float) -> MemoryReleaser | None:
    """Attach to the action server rasa-sdk is about to start: bodies dropped after each
    response, and a releaser, returned, unless the interval is 0 or the C library has no
    malloc_trim."""
    from rasa_sdk.plugin import plugin_manager

    trim = glibc_trim() if interval > 0 else None
    if interval > 0 and trim is None:
        logger.info("no malloc_trim in this C library: freed memory stays with the process")
    releaser = MemoryReleaser(trim, interval) if trim is not None else None
    plugin_manager().register(SanicMemoryRelease(releaser))
    if releaser is not None:
        logger.info("freed memory goes back to the OS at most every %s s (malloc_trim)", interval)
    return releaser
