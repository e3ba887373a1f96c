"""Conversation ids: signed widget sessions, channel namespaces, the server secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from connectors.session_ids import (
    SECRET_ENV,
    SessionIds,
    load_secret,
    rest_sender_error,
    secret_file,
)

SECRET = "s" * 32


def test_an_issued_id_is_resumed_anything_else_replaced() -> None:
    ids = SessionIds(SECRET)
    issued = ids.issue()
    assert issued.startswith("web-") and ids.is_issued(issued)
    assert ids.resume_or_issue(issued) == issued
    forged = issued[:-1] + ("0" if issued[-1] != "0" else "1")
    other_server = SessionIds("t" * 32).issue()
    for requested in (None, 42, "", forged, other_server, "0123456789abcdef0123456789abcdef"):
        new = ids.resume_or_issue(requested)
        assert new != requested and ids.is_issued(new)
    assert ids.issue() != ids.issue(), "a new session each time"


def test_the_id_of_another_session_cannot_be_derived() -> None:
    """Changing the random part of a valid id (same signature) does not give a valid id."""
    ids = SessionIds(SECRET)
    prefix, signature = ids.issue().split(".")
    assert not ids.is_issued(f"{prefix[:-1]}{'a' if prefix[-1] != 'a' else 'b'}.{signature}")


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        SessionIds("short")
    with pytest.raises(ValueError, match=SECRET_ENV):
        load_secret({SECRET_ENV: "x" * 31})


@pytest.mark.parametrize(
    ("sender", "channel"),
    [
        ("web-0123456789abcdef", "web-"),
        ("WEB-x", "web-"),
        ("telegram-123456789", "telegram-"),
        ("Telegram-1", "telegram-"),
    ],
)
def test_rest_refuses_ids_of_other_channels(sender: str, channel: str) -> None:
    reason = rest_sender_error(sender)
    assert reason and channel in reason and "another channel" in reason
    assert rest_sender_error(sender, staff=True), "not even with the API token"


def test_console_ids_need_the_api_token() -> None:
    reason = rest_sender_error("console-test-0123456789abcdef")
    assert reason and "staff console" in reason
    assert rest_sender_error("console-test-0123456789abcdef", staff=True) is None


@pytest.mark.parametrize("sender", ["me", "cityapp-3f2a9c", "webapp-1", "tele-1", "x-web-1"])
def test_rest_accepts_its_own_namespace(sender: str) -> None:
    assert rest_sender_error(sender) is None


def test_the_secret_comes_from_the_environment_first(tmp_path: Path) -> None:
    environ = {SECRET_ENV: "e" * 40, "OPASTIN_VAR_DIR": str(tmp_path)}
    assert load_secret(environ) == "e" * 40
    assert not (tmp_path / "session_secret").exists()


def test_without_one_a_secret_is_created_once_under_var(tmp_path: Path) -> None:
    environ = {"OPASTIN_VAR_DIR": str(tmp_path / "var")}
    first = load_secret(environ)
    path = tmp_path / "var" / "session_secret"
    assert len(first) >= 32 and path.read_text().strip() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "only the owner may read it"
    assert load_secret(environ) == first, "kept across restarts: sessions survive them"
    assert [p.name for p in path.parent.iterdir()] == ["session_secret"], "no temporary left"


def test_a_damaged_secret_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "session_secret"
    path.write_text("short\n")
    with pytest.raises(ValueError, match="at least 32"):
        secret_file(path)
