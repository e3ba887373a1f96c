"""Telegram end to end: a fake Bot API on 127.0.0.1, the real Rasa and action servers.

The stack starts while the fake Bot API is down (nothing listens at its URL), so the
module also proves that an unreachable Telegram neither stops the server nor breaks REST,
and that the webhook is registered once the API comes up. Updates are then posted to
Rasa's /webhooks/telegram/webhook as Telegram would, and the fake records what the
connector sent back. Non-text messages in private chats get a polite "text only" reply;
joins, edits and channel posts are ignored; all of them get 200. The channel's own code
without a server (keyboards, splitting, buttons, a rejected token) is tested in Rasa's Python
by tests/rasa_venv/test_telegram_channel.py.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from opastin.stack import Stack
from tests.e2e.conftest import ARTIFACTS, ask, e2e_settings, payload
from tests.fakes.telegram_bot_api import FakeBotApi
from tools.servers import free_port

pytestmark = pytest.mark.e2e

TOKEN = "123456789:AAE-fake_token_for_tests"
SECRET = "e2e-secret_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TAX_QUESTION = "How do I get a tax card?"
TAX_ORGANISATION = "Finnish Tax Administration"
_update_ids = itertools.count(500_000)


@dataclass
class TelegramRig:
    """The running stack, the fake Bot API, and what was seen while that API was down."""

    stack: Stack
    api: FakeBotApi
    webhook_url: str
    while_down: dict[str, Any] = field(default_factory=dict)


def request_json(
    url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """GET (body None) or POST JSON; returns status and decoded body, also for 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def health(stack: Stack) -> dict[str, Any]:
    status, body = request_json(f"{stack.rasa_url}/webhooks/telegram/")
    assert status == 200, body
    return body


def post_update(
    rig: TelegramRig, update: dict[str, Any], secret: str | None = SECRET
) -> tuple[int, Any]:
    headers = {} if secret is None else {SECRET_HEADER: secret}
    return request_json(rig.webhook_url, update, headers)


def message(chat: int, language: str = "en", chat_type: str = "private", **content: Any) -> dict:
    """A Telegram `message` object from a person in `chat`."""
    return {
        "message_id": next(_update_ids),
        "from": {"id": abs(chat), "is_bot": False, "first_name": "Test", "language_code": language},
        "chat": {"id": chat, "type": chat_type},
        "date": int(time.time()),
        **content,
    }


def update(**content: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **content}


def sent_to(api: FakeBotApi, chat: int) -> list[str]:
    """Texts of every sendMessage to `chat` so far."""
    return [c.params["text"] for c in api.calls_of("sendMessage") if c.params["chat_id"] == chat]


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def rig(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelegramRig]:
    """Start the stack with the Bot API down, look at it, then bring the fake API up."""
    settings = e2e_settings(tmp_path_factory.mktemp("telegram"))
    api = FakeBotApi(TOKEN, port=free_port())  # not started yet: Telegram is unreachable
    webhook_url = f"http://{settings.host}:{settings.rasa_port}/webhooks/telegram/webhook"
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_URL": webhook_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE": api.base_url,
        "TELEGRAM_TEST_INSECURE_API": "1",  # the fake Bot API speaks http on 127.0.0.1
        "TELEGRAM_RETRY_MAX_SECONDS": "2",
    }
    stack = Stack(settings, prepared, ARTIFACTS / "logs" / "telegram", env=env)
    rig = TelegramRig(stack, api, webhook_url)
    try:
        with stack.started():
            rig.while_down["failed_attempt"] = wait_until(
                lambda: health(stack).get("registration_error"), 30, "a failed registration attempt"
            )
            rig.while_down["health"] = health(stack)
            rig.while_down["rest"] = payload(ask(stack, "tg-while-down", TAX_QUESTION))
            rig.while_down["rasa_alive"] = stack.processes[-1].popen.poll() is None
            api.start()
            yield rig
    finally:
        api.stop()


def test_unreachable_bot_api_at_start_up_then_webhook_registered_with_secret(rig):
    down = rig.while_down
    assert "unreachable" in down["failed_attempt"]
    assert down["health"]["webhook_registered"] is False
    assert down["rasa_alive"], "the Rasa server must keep running while Telegram is down"
    assert down["rest"]["organisations"][0]["id"] == "vero", "REST must serve meanwhile"

    call = rig.api.wait_for("setWebhook", timeout=60)
    assert call.params["url"] == rig.webhook_url
    assert call.params["secret_token"] == SECRET
    wait_until(lambda: health(rig.stack)["webhook_registered"], 10, "health to say registered")
    assert health(rig.stack)["registration_error"] is None
    log = next(p for p in rig.stack.processes if p.name == "rasa").log_file.read_text()
    assert "webhook not registered" in log and "retry in" in log
    assert f"webhook registered at {rig.webhook_url}" in log


def test_updates_without_the_right_secret_are_refused(rig):
    chat = 1101
    question = update(message=message(chat, text=TAX_QUESTION))
    for secret in (None, "", "wrong-secret", SECRET + "x"):
        status, body = post_update(rig, question, secret=secret)
        assert status == 403, (secret, body)
    # The same update with the right secret is then handled: it never reached the bot before.
    status, body = post_update(rig, question)
    assert (status, body["outcome"]) == (200, "answered")
    assert len(sent_to(rig.api, chat)) == 1, "the refused posts produced no sendMessage"


def test_text_update_is_answered_with_the_responsible_organisation(rig):
    chat = 1201
    status, body = post_update(rig, update(message=message(chat, text=TAX_QUESTION)))
    assert (status, body["outcome"]) == (200, "answered")
    texts = sent_to(rig.api, chat)
    assert texts, "no sendMessage to the user's chat"
    reply = "\n".join(texts)
    assert TAX_ORGANISATION in reply
    assert "https://" in reply, "the official page is linked"
    for raw in ("service_answer", '"organisations"', "{"):
        assert raw not in reply, f"custom payload leaked into the chat: {reply!r}"
    assert all(not c.params.get("parse_mode") for c in rig.api.calls_of("sendMessage"))


def test_a_resent_update_is_answered_once(rig):
    chat = 1301
    question = update(message=message(chat, text=TAX_QUESTION))
    assert post_update(rig, question)[1]["outcome"] == "answered"
    answered = len(sent_to(rig.api, chat))
    status, body = post_update(rig, question)
    assert (status, body["outcome"]) == (200, "duplicate")
    assert len(sent_to(rig.api, chat)) == answered


def test_non_text_updates_get_200_and_a_polite_reply_or_nothing(rig):
    sticker = {"file_id": "s1", "file_unique_id": "u1", "width": 512, "height": 512}
    photo = [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]
    cases = [
        # (chat, update, expected outcome, expected reply fragment or None for no reply)
        (1401, update(message=message(1401, sticker=sticker)), "text_only_reply", "text"),
        (1402, update(message=message(1402, "fi", photo=photo)), "text_only_reply", "teksti"),
        (
            -1403,
            update(
                message=message(
                    -1403, chat_type="group", new_chat_members=[{"id": 9, "is_bot": False}]
                )
            ),
            "ignored:no_text",
            None,
        ),
        (
            -1404,
            update(message=message(-1404, chat_type="group", sticker=sticker)),
            "ignored:no_text",
            None,
        ),
        (
            1405,
            update(edited_message=message(1405, text=TAX_QUESTION)),
            "ignored:edited_message",
            None,
        ),
        (
            -1406,
            update(channel_post=message(-1406, chat_type="channel", text=TAX_QUESTION)),
            "ignored:channel_post",
            None,
        ),
        (1407, update(my_chat_member={"chat": {"id": 1407}}), "ignored:my_chat_member", None),
    ]
    for chat, sent, outcome, reply in cases:
        status, body = post_update(rig, sent)
        assert status == 200, (sent, body)
        assert body["outcome"] == outcome, sent
        texts = sent_to(rig.api, chat)
        if reply is None:
            assert texts == [], f"expected no reply to {sent}, got {texts}"
        else:
            assert len(texts) == 1 and reply in texts[0], texts
    # A photo whose caption asks a question is a question.
    captioned = update(message=message(1408, photo=photo, caption=TAX_QUESTION))
    assert post_update(rig, captioned)[1]["outcome"] == "answered"
    assert TAX_ORGANISATION in "\n".join(sent_to(rig.api, 1408))
    # Not JSON, or not an update object: refused with a reason, and the server goes on.
    assert post_update(rig, ["not", "an", "update"])[0] == 400
    assert health(rig.stack)["status"] == "ok"


def test_button_press_is_acknowledged_then_sent_to_the_bot(rig):
    chat = 1501
    query = {
        "id": "cbq-1501",
        "from": {"id": chat, "is_bot": False, "first_name": "Test", "language_code": "en"},
        "message": message(chat, text="Which city?"),
        "chat_instance": "ci-1",
        "data": "/greet",
    }
    status, body = post_update(rig, update(callback_query=query))
    assert (status, body["outcome"]) == (200, "button")
    answered = rig.api.wait_for(
        "answerCallbackQuery", lambda p: p["callback_query_id"] == "cbq-1501", timeout=5
    )
    texts = sent_to(rig.api, chat)
    assert texts and "Opastin" in texts[0], "the payload /greet reached the bot: it greeted"
    reply = next(c for c in rig.api.calls_of("sendMessage") if c.params["chat_id"] == chat)
    assert answered.at <= reply.at, "the spinner is stopped before the bot answers"


def test_start_command_greets(rig):
    chat = 1601
    status, body = post_update(rig, update(message=message(chat, text="/start@opastin_test_bot")))
    assert (status, body["outcome"]) == (200, "answered")
    assert "Opastin" in sent_to(rig.api, chat)[0]


def test_get_me_is_called_once_not_per_update(rig):
    rig.api.wait_for("setWebhook", timeout=60)
    for chat in (1701, 1702, 1703):
        assert post_update(rig, update(message=message(chat, text="Hello")))[0] == 200
        assert sent_to(rig.api, chat), "each update was answered"
    assert len(rig.api.calls_of("getMe")) == 1


def test_without_a_token_the_channel_is_disabled_and_says_why(stack):
    """The default `make run` setup (no TELEGRAM_* variables) must start and explain itself."""
    status, body = request_json(
        f"{stack.rasa_url}/webhooks/telegram/webhook",
        update(message=message(1801, text=TAX_QUESTION)),
        {SECRET_HEADER: SECRET},
    )
    assert status == 503
    assert "TELEGRAM_BOT_TOKEN" in body["error"]
    assert health(stack)["status"] == "disabled"
    log = next(p for p in stack.processes if p.name == "rasa").log_file.read_text()
    assert log.count("telegram channel disabled") == 1, log[-3000:]
