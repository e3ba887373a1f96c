"""A fake Telegram Bot API on 127.0.0.1 that records every call and answers like Telegram.

The real Bot API cannot be reached from tests (no network), and a test must see exactly
what the connector sent. Like Telegram it answers `{"ok": true, "result": ...}`, refuses a
wrong token with 401, an unknown method with 404 and an over-long or empty message with
400, so a connector that breaks Telegram's rules fails here too.

It runs its own event loop in a thread, so synchronous tests can use it directly. For a
local try (docs/telegram.md): `python -m tests.fakes.telegram_bot_api --token 123:test`
serves until Ctrl-C and prints every call.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MAX_MESSAGE_LENGTH = 4096
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Opastin",
    "username": "opastin_test_bot",
}


@dataclass
class Call:
    """One Bot API call as received: method name, its parameters, whether the token was right."""

    method: str
    params: dict[str, Any]
    authorized: bool = True
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    """Serves /bot<token>/<method> on 127.0.0.1:`port` (0 = any free port)."""

    def __init__(self, token: str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port = port
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    # --- what tests use -------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Start serving; returns once the port accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            self._thread = None
            raise RuntimeError(f"fake Bot API did not start: {failure}")
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls_of(self, method: str) -> list[Call]:
        """Calls of `method` made with the right token (the others did nothing)."""
        with self._lock:
            return [call for call in self.calls if call.method == method and call.authorized]

    def wait_for(
        self,
        method: str,
        where: Callable[[dict[str, Any]], bool] = lambda params: True,
        timeout: float = 30,
    ) -> Call:
        """The first call of `method` whose params satisfy `where`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.calls_of(method):
                if where(call.params):
                    return call
            time.sleep(0.05)
        raise AssertionError(
            f"no matching {method} call within {timeout:.0f} s; calls: "
            f"{[(c.method, c.params) for c in self.calls]}"
        )

    # --- the server ------------------------------------------------------------------------

    async def _start_site(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                params.update(body if isinstance(body, dict) else {})
            else:
                params.update(await request.post())
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await self._params(request)
        except ValueError:
            return _error(400, "Bad Request: can't parse JSON")
        authorized = request.match_info["token"] == self.token
        with self._lock:
            self.calls.append(Call(method, params, authorized))
        if not authorized:
            return _error(401, "Unauthorized")
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return handler(params)

    def _api_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    def _api_setWebhook(self, params: dict[str, Any]) -> web.Response:
        if not params.get("url"):
            return _error(400, "Bad Request: bad webhook: URL is empty")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_PATTERN.match(str(secret)):
            return _error(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = dict(params)
        return _ok(True)

    def _api_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {}
        return _ok(True)

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> web.Response:
        return _ok({"url": self.webhook.get("url", ""), "pending_update_count": 0})

    def _api_sendMessage(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text") or "")
        if "chat_id" not in params:
            return _error(400, "Bad Request: chat_id is empty")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_MESSAGE_LENGTH:
            return _error(400, "Bad Request: message is too long")
        return _ok(self._message(params, text=text))

    def _api_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        if not params.get("photo"):
            return _error(400, "Bad Request: there is no photo in the request")
        return _ok(self._message(params, photo=[{"file_id": "fake", "width": 1, "height": 1}]))

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> web.Response:
        if not params.get("callback_query_id"):
            return _error(400, "Bad Request: query is too old or query ID is invalid")
        return _ok(True)

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "from": BOT_USER,
            "chat": {"id": params.get("chat_id"), "type": "private"},
            "date": int(time.time()),
            **content,
        }


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.Response(
        status=code,
        text=json.dumps({"ok": False, "error_code": code, "description": description}),
        content_type="application/json",
    )


def main(argv: list[str] | None = None) -> None:
    """Serve the fake until Ctrl-C, printing each call: a Bot API for trying the bot locally."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.telegram_bot_api")
    parser.add_argument("--token", required=True, help="the bot token the connector uses")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    api = FakeBotApi(args.token, port=args.port).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops it cleanly too
    print(f"fake Bot API at {api.base_url} (TELEGRAM_API_BASE); Ctrl-C stops", flush=True)
    shown = 0
    try:
        while True:
            time.sleep(0.2)
            for call in api.calls[shown:]:
                print(f"{call.method}: {json.dumps(call.params, ensure_ascii=False)}", flush=True)
            shown = len(api.calls)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        api.stop()


if __name__ == "__main__":
    main()
