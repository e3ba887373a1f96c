"""The socket.io channel's checks: allowed origins, message validation, session binding."""

from __future__ import annotations

import json

import pytest
from connectors.rate_limit import MessageLimits
from connectors.session_ids import SessionIds
from connectors.socketio import (
    MAX_METADATA_BYTES,
    PersistentSocketIOInput,
    default_origins,
    parse_origins,
    session_binding_error,
)

SECRET = "x" * 32

# --- Origin check -------------------------------------------------------------------------


def test_the_default_origin_is_the_local_chat_page() -> None:
    assert default_origins({"OPASTIN_WEB_PORT": "8123"}) == [
        "http://127.0.0.1:8123",
        "http://localhost:8123",
    ]
    public = {"OPASTIN_HOST": "chat.example.fi", "OPASTIN_WEB_PORT": "80"}
    assert default_origins(public) == ["http://chat.example.fi:80"]


def test_origins_are_read_from_a_list_or_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPASTIN_WEB_PORT", "8000")
    monkeypatch.delenv("OPASTIN_HOST", raising=False)
    expected = ["https://www.hel.fi", "https://www.espoo.fi"]
    assert parse_origins(["https://www.hel.fi/", "https://www.espoo.fi"]) == expected
    assert parse_origins("https://www.hel.fi, https://www.espoo.fi") == expected
    assert parse_origins("https://www.hel.fi  https://www.espoo.fi/") == expected
    assert parse_origins("http://127.0.0.1:8000 *") == "*"
    for empty in (None, "", [], " , "):
        assert parse_origins(empty) == ["http://127.0.0.1:8000", "http://localhost:8000"]


@pytest.mark.parametrize("bad", ["www.hel.fi", "https://www.hel.fi/chat", "ftp://hel.fi"])
def test_something_that_is_not_an_origin_stops_the_start(bad: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        parse_origins([bad])


# --- message validation -------------------------------------------------------------------


@pytest.fixture
def channel() -> PersistentSocketIOInput:
    return PersistentSocketIOInput(
        session_persistence=True,
        metadata_key="customData",
        cors_allowed_origins=["https://www.hel.fi"],
        max_message_chars=50,
        session_ids=SessionIds(SECRET),
        limits=MessageLimits.from_env({}),
    )


def test_a_message_gives_its_text_and_metadata(channel: PersistentSocketIOInput) -> None:
    message = {"message": "Tax card?", "customData": {"language": "fi"}, "session_id": "x"}
    assert channel._validate(message) == ("Tax card?", {"language": "fi"})
    as_json = {"message": "Hei", "customData": json.dumps({"language": "fi"})}
    assert channel._validate(as_json) == ("Hei", {"language": "fi"})
    assert channel._validate({"message": "Hei"}) == ("Hei", {})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("Tax card?", "expected an object"),
        ({"message": " "}, "non-empty text"),
        ({"message": 5}, "non-empty text"),
        ({"message": "x" * 51}, "longer than 50"),
        ({"message": "hi", "customData": "{broken"}, "not valid JSON"),
        ({"message": "hi", "customData": ["fi"]}, "must be an object"),
        ({"message": "hi", "customData": {"x": "y" * MAX_METADATA_BYTES}}, "larger than"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(
    channel: PersistentSocketIOInput, data: object, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        channel._validate(data)


def test_credentials_configure_the_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPASTIN_SESSION_SECRET", SECRET)
    monkeypatch.setenv("OPASTIN_RATE_PER_CONVERSATION", "7")
    channel = PersistentSocketIOInput.from_credentials(
        {
            "session_persistence": True,
            "metadata_key": "customData",
            "cors_allowed_origins": "https://www.vantaa.fi/",
            "max_message_chars": "300",
        }
    )
    assert channel.session_persistence is True and channel.metadata_key == "customData"
    assert channel.cors_allowed_origins == ["https://www.vantaa.fi"]
    assert channel.max_message_chars == 300
    assert channel.limits.per_conversation.per_minute == 7
    issued = SessionIds(SECRET).issue()
    assert channel.session_ids.resume_or_issue(issued) == issued, "signed with the env secret"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OPASTIN_SESSION_SECRET", "too-short"), ("OPASTIN_RATE_PER_IP", "lots")],
)
def test_a_bad_secret_or_limit_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("OPASTIN_SESSION_SECRET", SECRET)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        PersistentSocketIOInput.from_credentials({"session_persistence": True})


# --- session binding ----------------------------------------------------------------------


def test_a_socket_speaks_only_for_the_session_confirmed_to_it() -> None:
    confirmed = "0123456789abcdef"
    assert session_binding_error(confirmed, {"message": "hi"}) is None
    assert session_binding_error(confirmed, {"message": "hi", "session_id": confirmed}) is None
    other = session_binding_error(confirmed, {"message": "hi", "session_id": "fedcba9876543210"})
    assert other and "differs" in other
    unconfirmed = session_binding_error(None, {"message": "hi", "session_id": confirmed})
    assert unconfirmed and "session_request first" in unconfirmed
