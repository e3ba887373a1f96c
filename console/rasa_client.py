"""Talking to Rasa's HTTP API: for "Try it" the REST channel for a message and the tracker API for
what Rasa made of it; for publishing the status API (which model runs) and PUT /model.

Rasa must run with `--enable-api --auth-token TOKEN` and give the console the same token; the
errors say so in words staff can pass on, since a wrong token is the usual set-up mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=60)
LOAD_TIMEOUT = aiohttp.ClientTimeout(total=600)  # loading a model takes a while on a busy machine


TOKEN_REFUSED = (
    "Rasa's HTTP API refused the token: start Rasa with --enable-api "
    "--auth-token and give the console the same token"
)


class RasaError(Exception):
    """Rasa could not be reached or refused; the message is meant for the page."""


@dataclass(frozen=True)
class Exchange:
    """The bot's replies to one message, and the conversation's whole tracker after it."""

    replies: list[Any]
    tracker: dict[str, Any]


class RasaClient:
    """One Rasa server, reached over HTTP at `url` with the HTTP API's `token`."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> Exchange:
        """Send `text` as `sender` over the REST channel, then read the tracker with all events."""
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                replies = await self._webhook(http, sender, text, metadata)
                tracker = await self._tracker(http, sender)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise RasaError(f"the Rasa server at {self.url} is not reachable") from None
        return Exchange(replies if isinstance(replies, list) else [], tracker)

    async def _webhook(
        self, http: aiohttp.ClientSession, sender: str, text: str, metadata: dict[str, Any]
    ) -> Any:
        async with http.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            # REST accepts console- sender ids only with the API token (docs/rest-api.md).
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            if response.status in {401, 403}:  # console- ids need the token (rest.py)
                raise RasaError(TOKEN_REFUSED)
            if response.status != 200:
                raise RasaError(f"Rasa answered HTTP {response.status}")
            return await response.json(content_type=None)

    async def _tracker(self, http: aiohttp.ClientSession, sender: str) -> dict[str, Any]:
        async with http.get(
            f"{self.url}/conversations/{quote(sender, safe='')}/tracker",
            params={"include_events": "ALL", "token": self.token},
        ) as response:
            if response.status in {401, 403}:
                raise RasaError(TOKEN_REFUSED)
            if response.status != 200:
                raise RasaError(f"Rasa's tracker API answered HTTP {response.status}")
            return await response.json(content_type=None)

    async def running_model(self) -> str:
        """The file name of the model Rasa serves (GET /status)."""
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as http,
                http.get(f"{self.url}/status", params={"token": self.token}) as response,
            ):
                if response.status in {401, 403}:
                    raise RasaError(TOKEN_REFUSED)
                if response.status != 200:
                    raise RasaError(f"Rasa's status API answered HTTP {response.status}")
                status = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise RasaError(f"the Rasa server at {self.url} is not reachable") from None
        return str(status.get("model_file") or "")

    async def load_model(self, model_file: str) -> None:
        """Swap the served model (PUT /model): Rasa loads the new one, then replaces the old,
        so conversations go on being answered (some wait while it loads)."""
        try:
            async with (
                aiohttp.ClientSession(timeout=LOAD_TIMEOUT) as http,
                http.put(
                    f"{self.url}/model",
                    params={"token": self.token},
                    json={"model_file": model_file},
                ) as response,
            ):
                if response.status in {401, 403}:
                    raise RasaError(TOKEN_REFUSED)
                if response.status != 204:
                    detail = (await response.text())[:300]
                    raise RasaError(f"Rasa refused the model (HTTP {response.status}): {detail}")
        except (aiohttp.ClientError, TimeoutError):
            raise RasaError(f"the Rasa server at {self.url} is not reachable") from None
