"""Telegram's rules on plain data: settings, splitting, keyboards, updates, de-duplication."""

from __future__ import annotations

import pytest
from connectors.telegram_protocol import (
    MAX_CALLBACK_DATA,
    TEXT_ONLY_REPLY,
    ButtonPayloads,
    SeenUpdates,
    TelegramSettings,
    chat_id,
    commands,
    derived_secret,
    inline_keyboard,
    message_metadata,
    parse_update,
    sender_id,
    split_message,
    utf16_length,
)

TOKEN = "123456789:AAE-fake_token_for_tests"


def private_message(chat: int = 42, language: str = "en", **content: object) -> dict:
    return {
        "message_id": 1,
        "from": {"id": chat, "is_bot": False, "language_code": language},
        "chat": {"id": chat, "type": "private"},
        **content,
    }


# --- settings -----------------------------------------------------------------------------


def test_settings_come_from_credentials_first_then_the_environment() -> None:
    environ = {
        "TELEGRAM_BOT_TOKEN": "env-token",
        "TELEGRAM_WEBHOOK_URL": "https://env.example/hook",
        "TELEGRAM_API_BASE": "https://bot-api.example/",
        "TELEGRAM_RETRY_MAX_SECONDS": "0.2",
    }
    settings = TelegramSettings.load({"access_token": TOKEN, "webhook_url": "  "}, environ)
    assert settings.access_token == TOKEN, "a credentials value wins"
    assert settings.webhook_url == "https://env.example/hook", "a blank value falls through"
    assert settings.api_base == "https://bot-api.example", "the trailing slash is dropped"
    assert settings.retry_max_seconds == 1.0, "retries wait at least a second"
    assert settings.secret_token == derived_secret(TOKEN) != derived_secret("other")
    assert settings.disabled_reason is None


def test_settings_say_why_the_channel_is_disabled() -> None:
    assert "TELEGRAM_BOT_TOKEN" in TelegramSettings.load(None, {}).disabled_reason
    no_url = TelegramSettings.load({"access_token": TOKEN}, {})
    assert "TELEGRAM_WEBHOOK_URL" in no_url.disabled_reason
    assert TelegramSettings.load(None, {}).secret_token == "", "no token, no derived secret"


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"secret_token": "has spaces"}, "webhook secret"),
        ({"secret_token": "x" * 257}, "webhook secret"),
        ({"retry_max_seconds": "soon"}, "must be a number"),
    ],
)
def test_bad_settings_stop_the_start_with_a_reason(credentials: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TelegramSettings.load({"access_token": TOKEN, **credentials}, {})


@pytest.mark.parametrize(
    "api_base",
    [
        "api.telegram.org",  # no scheme: the token ended up in the public health response
        "127.0.0.1:8081",
        "http://api.telegram.org",  # the token would cross the network in clear
        "http://10.0.0.5:8081",
        "ftp://api.telegram.org",
        "https://",
        "https://api.telegram.org/?proxy=1",
        f"https://api.telegram.org/bot{TOKEN}",  # not echoed in the error
    ],
)
def test_a_bot_api_base_other_than_https_stops_the_start(api_base: str) -> None:
    for credentials, environ in (
        ({"api_base": api_base}, {}),
        ({}, {"TELEGRAM_API_BASE": api_base}),
    ):
        with pytest.raises(ValueError, match=r"must be an https:// URL") as error:
            TelegramSettings.load({"access_token": TOKEN, **credentials}, environ)
        assert TOKEN not in str(error.value)


def test_an_https_bot_api_base_is_accepted() -> None:
    settings = TelegramSettings.load({"access_token": TOKEN, "api_base": "https://b.example/"}, {})
    assert settings.api_base == "https://b.example" and not settings.test_insecure_api


@pytest.mark.parametrize(
    "api_base", ["http://127.0.0.1:9", "http://localhost:8081", "http://[::1]:81"]
)
def test_local_http_needs_the_test_switch(api_base: str) -> None:
    with pytest.raises(ValueError, match="TELEGRAM_TEST_INSECURE_API"):
        TelegramSettings.load({"access_token": TOKEN, "api_base": api_base}, {})
    for credentials, environ in (
        ({"api_base": api_base, "test_insecure_api": True}, {}),
        ({}, {"TELEGRAM_API_BASE": api_base, "TELEGRAM_TEST_INSECURE_API": "1"}),
    ):
        settings = TelegramSettings.load({"access_token": TOKEN, **credentials}, environ)
        assert settings.api_base == api_base and settings.test_insecure_api


def test_the_test_switch_never_allows_http_to_another_host() -> None:
    environ = {"TELEGRAM_API_BASE": "http://10.0.0.5:8081", "TELEGRAM_TEST_INSECURE_API": "1"}
    with pytest.raises(ValueError, match="must be an https:// URL"):
        TelegramSettings.load({"access_token": TOKEN}, environ)


def test_settings_never_show_the_token_or_secret_in_their_repr() -> None:
    settings = TelegramSettings.load({"access_token": TOKEN, "secret_token": "hidden-secret"}, {})
    assert TOKEN not in repr(settings) and "hidden-secret" not in repr(settings)


# --- splitting ----------------------------------------------------------------------------


def test_utf16_length_counts_characters_outside_the_bmp_twice() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("ä😀") == 3


def test_a_short_text_is_one_part_and_blank_text_none() -> None:
    assert split_message("  Hello  ") == ["Hello"]
    assert split_message(" \n ") == []


def test_long_text_is_split_at_word_breaks_without_losing_a_word() -> None:
    words = [f"word{i}" for i in range(1500)]
    parts = split_message(" ".join(words))
    assert len(parts) >= 3
    assert all(utf16_length(part) <= 4096 for part in parts)
    assert " ".join(parts).split() == words


def test_paragraph_breaks_are_preferred_to_word_breaks() -> None:
    first, second = "a " * 30, "b " * 30
    parts = split_message(f"{first}\n\n{second}", limit=100)
    assert parts == [first.strip(), second.strip()]


def test_text_without_breaks_is_cut_by_utf16_units() -> None:
    parts = split_message("😀" * 3000)
    assert [utf16_length(part) for part in parts] == [4096, 1904]
    assert "".join(parts) == "😀" * 3000, "no surrogate pair is cut"


# --- keyboards and button payloads --------------------------------------------------------


def test_short_answers_sit_side_by_side() -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert inline_keyboard(buttons, ButtonPayloads()) == [
        [{"text": "Yes", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]
    ]


def test_long_titles_go_one_per_row_and_links_stay_links() -> None:
    buttons = [
        {"title": "Helsinki, work permit", "payload": "/inform"},
        {"title": "Official page", "url": "https://www.vero.fi/en/"},
    ]
    rows = inline_keyboard(buttons, ButtonPayloads())
    assert rows == [
        [{"text": "Helsinki, work permit", "callback_data": "/inform"}],
        [{"text": "Official page", "url": "https://www.vero.fi/en/"}],
    ]


def test_a_payload_over_64_bytes_travels_as_a_key_and_comes_back_whole() -> None:
    payloads = ButtonPayloads()
    long_payload = '/inform{"municipality": "helsinki", "purpose": "work", "x": "yyyyyyy"}'
    assert len(long_payload.encode()) > MAX_CALLBACK_DATA
    key = payloads.callback_data(long_payload)
    assert key.startswith("btn:") and len(key.encode()) <= MAX_CALLBACK_DATA
    assert payloads.payload(key) == long_payload
    assert payloads.payload("/affirm") == "/affirm", "short payloads travel as they are"
    assert payloads.payload("btn:unknown") is None, "a key this process never issued"
    # A short payload that looks like a key is mapped too, so it cannot be mistaken for one.
    assert payloads.callback_data("btn:x") != "btn:x"


def test_button_keys_are_forgotten_oldest_first() -> None:
    payloads = ButtonPayloads(capacity=2)
    keys = [payloads.callback_data(f"/inform{{'n': {i}}}" + "x" * 64) for i in range(3)]
    assert payloads.payload(keys[0]) is None
    assert payloads.payload(keys[2]) is not None


# --- conversation ids ---------------------------------------------------------------------


def test_chat_ids_round_trip_through_rasa_sender_ids() -> None:
    for chat in (2001, -1001234, "@channel_name"):
        assert chat_id(sender_id(chat)) == chat
    assert chat_id("2001") == 2001


def test_metadata_carries_the_chat_and_the_client_language() -> None:
    assert message_metadata(7, {"language_code": "pt-BR"}) == {
        "telegram_chat_id": 7,
        "language": "pt",
    }
    assert message_metadata(7, {}) == {"telegram_chat_id": 7}


# --- updates ------------------------------------------------------------------------------


def test_a_text_message_is_a_question_for_the_bot() -> None:
    incoming = parse_update({"update_id": 1, "message": private_message(text=" Tax card? ")})
    assert (incoming.outcome, incoming.chat, incoming.texts) == ("answered", 42, ("Tax card?",))


def test_a_photo_caption_is_a_question() -> None:
    incoming = parse_update({"message": private_message(photo=[{}], caption="Tax card?")})
    assert (incoming.outcome, incoming.texts) == ("answered", ("Tax card?",))


@pytest.mark.parametrize(
    ("text", "texts"),
    [
        ("/start", ("/greet",)),
        ("/help@opastin_bot", ("/greet",)),
        ("/RESTART", ("/restart", "/greet")),
        ('/inform{"x": 1}', ('inform{"x": 1}',)),  # no arbitrary intents from the keyboard
        ("/tax card please", ("tax card please",)),
    ],
)
def test_commands_map_to_intents_or_lose_their_slash(text: str, texts: tuple) -> None:
    assert parse_update({"message": private_message(text=text)}).texts == texts
    assert commands(text) == list(texts)


def test_a_bare_slash_is_ignored() -> None:
    assert parse_update({"message": private_message(text="/")}).outcome == "ignored:empty_command"


def test_unreadable_content_in_a_private_chat_gets_a_reply_in_the_client_language() -> None:
    sticker = parse_update({"message": private_message(language="fi-FI", sticker={})})
    assert (sticker.outcome, sticker.reply) == ("text_only_reply", TEXT_ONLY_REPLY["fi"])
    unknown = parse_update({"message": private_message(language="ja", voice={})})
    assert unknown.reply == TEXT_ONLY_REPLY["en"]
    assert unknown.texts == ()


@pytest.mark.parametrize(
    ("update", "outcome"),
    [
        ({"update_id": 5, "edited_message": private_message(text="hi")}, "ignored:edited_message"),
        ({"channel_post": {"chat": {"id": -1}, "text": "hi"}}, "ignored:channel_post"),
        ({"update_id": 5}, "ignored:empty"),
        (
            {"message": {**private_message(sticker={}), "chat": {"id": -3, "type": "group"}}},
            "ignored:no_text",
        ),
        ({"message": {"chat": {"id": 1}, "new_chat_members": [{"id": 9}]}}, "ignored:no_text"),
        ({"message": {"text": "hi", "from": {"id": 1}}}, "ignored:no_chat"),
        ({"message": private_message(text="hi", **{"from": {"is_bot": True}})}, "ignored:no_chat"),
    ],
)
def test_joins_edits_channel_posts_and_bots_are_ignored(update: dict, outcome: str) -> None:
    incoming = parse_update(update)
    assert incoming.outcome == outcome
    assert (incoming.texts, incoming.reply) == ((), "")


def test_a_pressed_button_names_its_query_data_and_chat() -> None:
    query = {
        "id": "cbq-1",
        "from": {"id": 42, "language_code": "sv"},
        "message": {"chat": {"id": -77}},
        "data": "/affirm",
    }
    incoming = parse_update({"callback_query": query})
    assert (incoming.outcome, incoming.chat, incoming.button_data) == ("button", -77, "/affirm")
    assert incoming.callback_query_id == "cbq-1"
    # Inline-mode messages carry no chat: the user's private chat is theirs.
    inline = parse_update({"callback_query": {**query, "message": None}})
    assert inline.chat == 42


def test_a_resent_update_is_seen_once_and_old_ids_are_forgotten() -> None:
    seen = SeenUpdates(capacity=2)
    assert [seen.first_time(i) for i in (1, 1, 2, 3)] == [True, False, True, True]
    assert seen.first_time(1), "forgotten after two newer ones"
    assert seen.first_time(None) and seen.first_time(None), "no id: always handled"
