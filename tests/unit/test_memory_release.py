"""actions/memory_release.py: when the action server trims, and that the trim gives memory back."""

from __future__ import annotations

import asyncio
import os

import pytest
from sanic.compat import Header
from sanic.request import Request

from actions.memory_release import (
    MemoryReleaser,
    SanicMemoryRelease,
    forget_body,
    glibc_trim,
    install,
)
from opastin.config import Settings
from tools import servers


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counting_releaser(interval: float = 10.0) -> tuple[MemoryReleaser, Clock, list[int]]:
    clock, calls = Clock(), []
    releaser = MemoryReleaser(lambda: calls.append(1) or 1, interval, clock)
    return releaser, clock, calls


def test_no_trim_without_requests_however_long_it_waits() -> None:
    releaser, clock, calls = counting_releaser()
    clock.now += 1_000
    assert not releaser.release_if_due()
    assert calls == []


def test_trims_once_per_interval_after_requests() -> None:
    releaser, clock, calls = counting_releaser(interval=10)
    releaser.request_served()
    clock.now += 9.9
    assert not releaser.release_if_due()  # served, but too soon
    clock.now += 0.1
    assert releaser.release_if_due()
    assert not releaser.release_if_due()  # nothing served since
    releaser.request_served()
    releaser.request_served()
    clock.now += 10
    assert releaser.release_if_due()
    assert (len(calls), releaser.trims, releaser.pending) == (2, 2, 0)


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MemoryReleaser(lambda: 1, 0)


def test_setting_defaults_validates_and_disables() -> None:
    assert Settings.from_env({}).memory_release_seconds == 10.0
    assert Settings.from_env({"OPASTIN_MEMORY_RELEASE_SECONDS": "0"}).memory_release_seconds == 0
    with pytest.raises(SystemExit, match="MEMORY_RELEASE_SECONDS"):
        Settings.from_env({"OPASTIN_MEMORY_RELEASE_SECONDS": "-1"})


@pytest.mark.parametrize("interval", [10.0, 0.0])
def test_install_registers_the_plugin_rasa_sdk_attaches(interval: float) -> None:
    """rasa-sdk's `run` calls its plugin manager's hook on the app it starts; interval 0 still
    forgets bodies, without a releaser."""
    from rasa_sdk.plugin import plugin_manager

    manager = plugin_manager()
    before = set(manager.get_plugins())
    releaser = install(interval)
    added = set(manager.get_plugins()) - before
    try:
        [plugin] = added
        assert isinstance(plugin, SanicMemoryRelease)
        assert plugin.releaser is releaser
        assert (releaser is None) == (interval == 0)
    finally:
        for plugin in added:
            manager.unregister(plugin)


def rss_mb() -> float:
    return servers.rss_mb(os.getpid())


def test_glibc_trim_returns_pages_freed_in_the_middle_of_the_heap() -> None:
    """What the action server's requests leave behind: many malloc'd blocks (bytes objects
    over pymalloc's 512-byte limit) freed, with one block after them still alive, so glibc
    cannot shrink the heap from the top and keeps the pages until malloc_trim(0)."""
    trim = glibc_trim()
    assert trim is not None, "this machine's Python runs on glibc"
    blocks = [bytes(4000) for _ in range(20_000)]  # ~80 MB
    pin = bytes(4000)  # allocated after them: the heap's top stays in use
    before_free = rss_mb()
    del blocks
    after_free = rss_mb()
    assert after_free > before_free - 20, "glibc gave the freed blocks back on its own"
    trim()
    after_trim = rss_mb()
    assert after_trim < after_free - 50, (before_free, after_free, after_trim)
    assert pin


def action_call_request() -> Request:
    request = Request(b"/webhook", Header(), "1.1", "POST", None, None)  # type: ignore[arg-type]
    request.body = b'{"next_action": "action_answer", "tracker": {"events": []}}'
    return request


def test_forget_body_drops_the_parsed_action_call() -> None:
    request = action_call_request()
    assert request.json["next_action"] == "action_answer"
    forget_body(request)
    assert (request.body, request.parsed_json) == (b"", None)


def test_plugin_forgets_bodies_counts_responses_and_starts_the_releaser() -> None:
    """The rasa-sdk hook registers a response middleware and a start listener on the app."""
    releaser, clock, calls = counting_releaser(interval=0.01)
    middleware, listeners, tasks = [], [], []

    class App:
        def register_middleware(self, handler: object, attach_to: str) -> None:
            middleware.append((handler, attach_to))

        def register_listener(self, handler: object, event: str) -> None:
            listeners.append((handler, event))

        def add_task(self, coroutine: object) -> None:
            tasks.append(coroutine)

    app = App()
    SanicMemoryRelease(releaser).attach_sanic_app_extensions(app)
    [(finished, attach_to)], [(start, event)] = middleware, listeners
    assert (attach_to, event) == ("response", "after_server_start")
    request = action_call_request()
    assert request.json

    async def serve() -> None:
        await finished(request, None)
        await start(app)
        clock.now += 1
        runner = asyncio.ensure_future(tasks[0])
        await asyncio.sleep(0.05)
        runner.cancel()

    asyncio.run(serve())
    assert calls == [1]
    assert request.parsed_json is None


def test_without_a_releaser_the_plugin_still_forgets_bodies() -> None:
    middleware, listeners = [], []

    class App:
        def register_middleware(self, handler: object, attach_to: str) -> None:
            middleware.append(handler)

        def register_listener(self, handler: object, event: str) -> None:
            listeners.append(handler)

    SanicMemoryRelease(None).attach_sanic_app_extensions(App())
    request = action_call_request()
    assert request.json
    asyncio.run(middleware[0](request, None))
    assert (request.parsed_json, listeners) == (None, [])
