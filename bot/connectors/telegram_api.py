"""A minimal Telegram Bot API client for the Telegram channel (bot/connectors/telegram.py).

One aiohttp session that lives in the server's own loop (created on first use, closed when the
server stops), any Bot API base URL (tests use a fake one), short rate limits waited out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp


class TelegramApiError(Exception):
    """The Bot API refused a call or could not be reached."""

    def __init__(
        self, method: str, description: str, code: int | None = None, retry_after: float = 0
    ) -> None:
        super().__init__(f"{method}: {description}" + (f" (error {code})" if code else ""))
        self.method = method
        self.code = code
        self.retry_after = retry_after


class BotApi:
    """A minimal Bot API client; its session is created in, and bound to, the running loop."""

    def __init__(self, token: str, api_base: str, timeout: float = 15) -> None:
        self._token = token
        self._url = f"{api_base}/bot{token}"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._loop = loop
        return self._session

    async def call(self, method: str, **params: Any) -> Any:
        """Call a Bot API method; waits out short rate limits (429) up to twice."""
        for attempt in range(3):
            try:
                async with self._client().post(f"{self._url}/{method}", json=params) as answer:
                    try:
                        body = await answer.json(content_type=None)
                    except ValueError:
                        body = {"ok": False, "description": f"HTTP {answer.status}, not JSON"}
            except Exception as error:  # any client error (even a bad URL) may quote the URL
                # The client's message may quote the URL, which holds the token.
                reason = self._redact(f"unreachable: {error!r}")
                raise TelegramApiError(method, reason) from None
            if isinstance(body, dict) and body.get("ok"):
                return body.get("result")
            body = body if isinstance(body, dict) else {}
            retry_after = float((body.get("parameters") or {}).get("retry_after") or 0)
            error = TelegramApiError(
                method,
                self._redact(str(body.get("description") or f"HTTP {answer.status}")),
                body.get("error_code") or answer.status,
                retry_after,
            )
            if error.code == 429 and 0 < retry_after <= 30 and attempt < 2:
                await asyncio.sleep(retry_after)
                continue
            raise error
        raise AssertionError("unreachable")  # pragma: no cover

    def _redact(self, text: str) -> str:
        """The text without the bot token (errors end up in logs and the health response)."""
        return text.replace(self._token, "<token>") if self._token else text

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


class RedactToken(logging.Filter):
    """Replaces the bot token in a log record, its arguments and its traceback.

    Errors of the Bot API client are redacted where they are made; this is the second guard
    for anything else a handler logs (an unexpected exception may quote a URL with the token).
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        record.msg, record.args = message.replace(self.token, "<token>"), ()
        return True


def redact_logs(token: str, *loggers: logging.Logger) -> None:
    """Install one RedactToken filter on each logger (once, whatever the number of calls)."""
    for logger in loggers:
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))
