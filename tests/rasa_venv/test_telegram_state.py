"""The Telegram channel's state across replicas, on a real private redis-server.

Two channel objects play two Rasa replicas behind nginx; each gets the lock store Rasa's own
factory builds from deploy/endpoints.yml (the `store` fixture), inside a real Rasa Agent, as
`rasa run` hands it to the server. The Bot API is the fake one on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest
from connectors.telegram import TelegramInput
from connectors.telegram_api import BotApi, TelegramApiError
from connectors.telegram_protocol import TelegramSettings
from lock_store import AtomicRedisLockStore
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore

from tests.fakes.telegram_bot_api import FakeBotApi
from tools.servers import free_port

TOKEN = "123456789:AAE-fake_token_for_tests"
LONG_PAYLOAD = '/inform{"municipality": "vantaa", "purpose": "study", "x": "zzzzzzzzzzz"}'
UPDATE_IDS = itertools.count(int(time.time()) * 1000)  # the session's Redis outlives a test


def replica(api: FakeBotApi, lock_store: Any) -> TelegramInput:
    """One Rasa replica's Telegram channel, with the running server's agent and lock store."""
    settings = TelegramSettings(
        TOKEN, "https://example.invalid/hook", "s", api.base_url, test_insecure_api=True
    )
    channel = TelegramInput(settings)
    server = SimpleNamespace(ctx=SimpleNamespace(agent=Agent(lock_store=lock_store)))
    channel.share_state(server)
    return channel


def question(update_id: int, chat: int = 5001) -> dict[str, Any]:
    sender = {"id": chat, "language_code": "en"}
    chat_info = {"id": chat, "type": "private"}
    return {"update_id": update_id, "message": {"from": sender, "chat": chat_info, "text": "hi"}}


def run_all(channels: list[TelegramInput], work: Any) -> Any:
    async def main() -> Any:
        try:
            return await work
        finally:
            for channel in channels:
                await channel.api.close()

    return asyncio.run(main())


def test_a_resent_update_is_answered_once_across_replicas(store) -> None:
    received: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message.text)

    with FakeBotApi(TOKEN) as api:
        first, second = replica(api, store), replica(api, store)
        assert first.state.where == second.state.where == "redis"
        resent, other = question(next(UPDATE_IDS)), question(next(UPDATE_IDS))

        async def deliver() -> list[str]:
            return [
                await first.handle_update(resent, on_new_message),
                await second.handle_update(resent, on_new_message),  # Telegram's resend
                await second.handle_update(other, on_new_message),
                await first.handle_update(other, on_new_message),
            ]

        assert run_all([first, second], deliver()) == [
            "answered",
            "duplicate",
            "answered",
            "duplicate",
        ]
    assert received == ["hi", "hi"]
    key = f"opastin:telegram:update:{resent['update_id']}"
    assert store.red.exists(key) and 0 < store.red.ttl(key) <= 24 * 3600


def test_a_long_button_sent_by_one_replica_works_on_another(store) -> None:
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    with FakeBotApi(TOKEN) as api:
        sender, presser = replica(api, store), replica(api, store)

        async def send_then_press() -> str:
            buttons = [{"title": "Vantaa, studies", "payload": LONG_PAYLOAD}]
            await sender.output.send_text_with_buttons("telegram-5002", "Which city?", buttons)
            keyboard = api.calls_of("sendMessage")[-1].params["reply_markup"]["inline_keyboard"]
            data = keyboard[0][0]["callback_data"]
            assert data.startswith("btn:") and len(data.encode()) <= 64
            query = {
                "id": "q-1",
                "from": {"id": 5002},
                "data": data,
                "message": {"chat": {"id": 5002, "type": "private"}},
            }
            update = {"update_id": next(UPDATE_IDS), "callback_query": query}
            return await presser.handle_update(update, on_new_message)

        assert run_all([sender, presser], send_then_press()) == "button"
        acks = api.calls_of("answerCallbackQuery")
    assert [m.text for m in received] == [LONG_PAYLOAD]
    assert "text" not in acks[0].params, "not 'expired'"
    keys = store.red.keys("opastin:telegram:btn:*")
    assert keys and all(store.red.ttl(k) > 0 for k in keys)


def test_without_a_redis_lock_store_the_state_stays_in_this_process(caplog) -> None:
    received: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message.text)

    with FakeBotApi(TOKEN) as api, caplog.at_level(logging.INFO, "connectors.telegram"):
        channel = replica(api, InMemoryLockStore())
        update = question(next(UPDATE_IDS))

        async def deliver() -> list[str]:
            return [await channel.handle_update(update, on_new_message) for _ in range(2)]

        assert run_all([channel], deliver()) == ["answered", "duplicate"]
        mapped = channel.buttons.callback_data(LONG_PAYLOAD)
    assert channel.state.where == "memory" and channel.buttons.payload(mapped) == LONG_PAYLOAD
    assert "several replicas need a Redis lock store" in caplog.text


def test_redis_going_away_costs_no_message(caplog) -> None:
    """A Redis lock store that cannot be reached: the channel falls back to memory, says why."""
    down = AtomicRedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=1)
    received: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message.text)

    with FakeBotApi(TOKEN) as api, caplog.at_level(logging.WARNING, "connectors.telegram_state"):
        channel = replica(api, down)
        update = question(next(UPDATE_IDS))

        async def deliver() -> list[str]:
            return [await channel.handle_update(update, on_new_message) for _ in range(2)]

        assert run_all([channel], deliver()) == ["answered", "duplicate"]
        mapped = channel.buttons.callback_data(LONG_PAYLOAD)
    assert received == ["hi"]
    assert channel.buttons.payload(mapped) == LONG_PAYLOAD
    assert "Redis unavailable" in caplog.text


def test_the_token_never_reaches_the_health_output_or_the_logs(caplog) -> None:
    port = free_port()  # nothing listens: every Bot API call fails
    settings = TelegramSettings(
        TOKEN,
        "https://example.invalid/hook",
        "s",
        f"http://127.0.0.1:{port}",
        retry_max_seconds=1,
        test_insecure_api=True,
    )
    channel = TelegramInput(settings)

    async def register_briefly() -> None:
        try:
            await asyncio.wait_for(channel.register_webhook(), 1.5)
        except asyncio.TimeoutError:
            pass
        finally:
            await channel.api.close()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(register_briefly())
        try:
            raise RuntimeError(f"unexpected failure at https://host/bot{TOKEN}/getMe")
        except RuntimeError:
            logging.getLogger("connectors.telegram").exception("telegram: update 1 failed")
    assert channel.registration_error and "unreachable" in channel.registration_error
    assert TOKEN not in channel.registration_error
    assert "registration_error" in caplog.text or "webhook not registered" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    assert "<token>" in caplog.text


def test_a_client_error_outside_aiohttp_is_redacted_too() -> None:
    """A base the URL parser rejects raises ValueError with the URL: still no token."""
    api = BotApi(TOKEN, "https://[bad host")

    async def call() -> None:
        try:
            await api.call("getMe")
        finally:
            await api.close()

    with pytest.raises(TelegramApiError) as error:
        asyncio.run(call())
    assert TOKEN not in str(error.value) and TOKEN.split(":")[1] not in str(error.value)
