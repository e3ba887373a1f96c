"""The Telegram channel's own code against the fake Bot API: what it sends, what it hands on.

No Rasa server: the channel objects are driven directly, in Rasa's Python, and the fake
records every Bot API call (and refuses what Telegram would refuse).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from connectors.telegram import TelegramInput, TelegramOutput
from connectors.telegram_api import BotApi, TelegramApiError
from connectors.telegram_protocol import TelegramSettings, utf16_length
from connectors.turn_guard import RESPONSE
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from rasa.shared.core.domain import Domain

from tests.fakes.telegram_bot_api import FakeBotApi

TOKEN = "123456789:AAE-fake_token_for_tests"
LONG_PAYLOAD = '/inform{"municipality": "helsinki", "purpose": "work", "x": "yyyyyyy"}'


def channel_for(api: FakeBotApi, token: str = TOKEN) -> TelegramInput:
    settings = TelegramSettings(
        token, "https://example.invalid/hook", "s", api.base_url, test_insecure_api=True
    )
    return TelegramInput(settings)


def run(channel: TelegramInput, work: Any) -> Any:
    """Run a coroutine in a fresh loop, closing the channel's HTTP session in the same loop."""

    async def main() -> Any:
        try:
            return await work
        finally:
            await channel.api.close()

    return asyncio.run(main())


def texts_to(api: FakeBotApi, chat: int) -> list[str]:
    return [c.params["text"] for c in api.calls_of("sendMessage") if c.params["chat_id"] == chat]


def test_buttons_become_inline_keyboards() -> None:
    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api)
        out = channel.output

        async def send() -> None:
            yes_no = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
            await out.send_text_with_buttons("telegram-2001", "Is this about work?", yes_no)
            city = [
                {"title": "Helsinki, work permit", "payload": LONG_PAYLOAD},
                {"title": "Official page", "url": "https://www.vero.fi/en/"},
            ]
            await out.send_text_with_buttons("telegram-2002", "Which city?", city)

        run(channel, send())
        sends = {c.params["chat_id"]: c.params for c in api.calls_of("sendMessage")}
    assert sends[2001]["text"] == "Is this about work?"
    assert sends[2001]["reply_markup"]["inline_keyboard"] == [
        [{"text": "Yes", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]
    ]
    rows = sends[2002]["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1], "long titles go one per row"
    assert channel.buttons.payload(rows[0][0]["callback_data"]) == LONG_PAYLOAD
    assert rows[1][0] == {"text": "Official page", "url": "https://www.vero.fi/en/"}
    assert all(not c.get("parse_mode") for c in sends.values()), "plain text, nothing interpreted"


def test_long_texts_are_split_and_custom_payloads_show_only_their_text() -> None:
    words = " ".join(f"word{i}" for i in range(1500))
    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api)
        out = channel.output

        async def send() -> None:
            await out.send_text_message("telegram-2003", words + "\n\n" + "😀" * 3000)
            payload = {"type": "service_answer", "organisations": []}
            await out.send_custom_json("telegram-2004", payload)
            await out.send_custom_json("telegram-2005", {"text": "Only this text"})

        run(channel, send())
        parts = texts_to(api, 2003)
        assert len(parts) >= 3 and all(utf16_length(p) <= 4096 for p in parts)
        received = " ".join(parts).split()
        assert received[:1500] == words.split(), "no word is cut or lost"
        assert "".join(received[1500:]) == "😀" * 3000
        assert texts_to(api, 2004) == [], "a payload without text is not shown"
        assert texts_to(api, 2005) == ["Only this text"]


def test_a_pressed_button_is_acknowledged_then_its_payload_sent_to_the_bot() -> None:
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api)
        mapped = channel.buttons.callback_data(LONG_PAYLOAD)

        async def press() -> list[str]:
            outcomes = []
            for data in (mapped, "btn:unknown"):
                query = {
                    "id": "q-" + data,
                    "from": {"id": 2002, "language_code": "fi"},
                    "data": data,
                    "message": {"chat": {"id": 2002, "type": "private"}},
                }
                outcomes.append(
                    await channel.handle_update({"callback_query": query}, on_new_message)
                )
            return outcomes

        assert run(channel, press()) == ["button", "ignored:button"]
        acks = {
            c.params["callback_query_id"]: c.params for c in api.calls_of("answerCallbackQuery")
        }
    assert set(acks) == {f"q-{mapped}", "q-btn:unknown"}
    assert "expired" in acks["q-btn:unknown"]["text"] and "text" not in acks[f"q-{mapped}"]
    assert [m.text for m in received] == [LONG_PAYLOAD], "the mapped payload comes back whole"
    message = received[0]
    assert (message.sender_id, message.input_channel) == ("telegram-2002", "telegram")
    assert message.metadata == {"telegram_chat_id": 2002, "language": "fi"}
    assert isinstance(message.output_channel, TelegramOutput)  # held until the turn is stored


def test_updates_are_handled_once_and_unreadable_ones_answered_politely() -> None:
    received: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message.text)

    question = {
        "update_id": 77,
        "message": {"from": {"id": 3}, "chat": {"id": 3, "type": "private"}, "text": "/restart"},
    }
    sticker = {
        "update_id": 78,
        "message": {"from": {"id": 4}, "chat": {"id": 4, "type": "private"}, "sticker": {}},
    }
    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api)

        async def deliver() -> list[str]:
            updates = (question, question, sticker)
            return [await channel.handle_update(u, on_new_message) for u in updates]

        assert run(channel, deliver()) == ["answered", "duplicate", "text_only_reply"]
        assert received == ["/restart", "/greet"], "one command, two intents, handled once"
        assert len(texts_to(api, 4)) == 1 and "text" in texts_to(api, 4)[0]


def test_a_turn_that_failed_gets_try_again_in_the_users_language_and_nothing_else() -> None:
    """A lock store or tracker store failure: the user is asked to try again, in Finnish for a
    Finnish Telegram client; what the bot said before the failure is not sent."""
    finnish = [{"type": "slot", "name": "language", "value": "fi"}]
    variants = [{"text": "Yritä uudelleen.", "condition": finnish}, {"text": "Please try again."}]
    domain = Domain.from_dict({"responses": {RESPONSE: variants}})

    async def fails(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "half an answer")
        raise LockError("Could not acquire lock")

    async def answers(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "the answer")

    def update(number: int, chat: int, language: str) -> dict[str, Any]:
        sender = {"id": chat, "language_code": language}
        chat_of = {"id": chat, "type": "private"}
        return {"update_id": number, "message": {"from": sender, "chat": chat_of, "text": "hi"}}

    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api)

        async def deliver() -> None:
            await channel.handle_update(update(1, 5, "fi"), fails, domain)
            await channel.handle_update(update(2, 6, "en"), fails, domain)
            await channel.handle_update(update(3, 7, "fi"), answers, domain)

        run(channel, deliver())
        assert texts_to(api, 5) == ["Yritä uudelleen."]
        assert texts_to(api, 6) == ["Please try again."]
        assert texts_to(api, 7) == ["the answer"]


def test_a_token_telegram_rejects_is_reported_not_retried_forever() -> None:
    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api, token="999:revoked")
        run(channel, asyncio.wait_for(channel.register_webhook(), 20))
        calls = [(c.method, c.authorized) for c in api.calls]
    assert channel.webhook_registered is False
    assert "401" in channel.registration_error and "Unauthorized" in channel.registration_error
    assert calls == [("getMe", False)], "one try"


def test_the_webhook_is_registered_with_the_secret_after_one_get_me() -> None:
    with FakeBotApi(TOKEN) as api:
        channel = channel_for(api)
        run(channel, asyncio.wait_for(channel.register_webhook(), 20))
        set_webhook = api.calls_of("setWebhook")
    assert channel.webhook_registered and channel.registration_error is None
    assert channel.bot_username == "opastin_test_bot"
    assert [c.params["secret_token"] for c in set_webhook] == ["s"]
    assert set_webhook[0].params["url"] == "https://example.invalid/hook"


def test_bot_api_errors_never_carry_the_token() -> None:
    """Errors reach the logs and the health response; the client may quote the whole URL."""
    api = BotApi(TOKEN, "api.telegram.org")  # what TelegramSettings refuses, as a second guard

    async def call() -> None:
        try:
            await api.call("getMe")
        finally:
            await api.close()

    with pytest.raises(TelegramApiError, match="getMe: unreachable") as error:
        asyncio.run(call())
    assert TOKEN not in str(error.value) and TOKEN.split(":")[1] not in str(error.value)
    assert "<token>" in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
