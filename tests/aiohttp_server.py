"""Run an aiohttp app in a test: the page server, the console, stand-in bots."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from aiohttp import web

from tools.servers import free_port


@contextlib.contextmanager
def serve(app: web.Application, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run the app on its own event loop in a thread (on a free port unless given); its URL."""
    port = port or free_port(host)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, host, port).start())
    thread = threading.Thread(target=loop.run_forever, name=f"test-server-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()
