"""The REST channel's request validation: every broken body gets its status and a reason."""

from __future__ import annotations

import json

import pytest
from connectors.rest import (
    MAX_BODY_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_SENDER_CHARS,
    RequestError,
    parse_body,
)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_valid_request_is_passed_on_with_empty_metadata_by_default() -> None:
    assert parse_body(body(sender="me", message="Tax card?")) == {
        "sender": "me",
        "message": "Tax card?",
        "metadata": {},
    }
    with_metadata = parse_body(body(sender="me", message="Hei", metadata={"language": "fi"}))
    assert with_metadata["metadata"] == {"language": "fi"}


def test_limits_are_inclusive() -> None:
    parse_body(body(sender="s" * MAX_SENDER_CHARS, message="m" * MAX_MESSAGE_CHARS))


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (b"x" * (MAX_BODY_BYTES + 1), 413, "over"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "not valid JSON"),
        (b'["sender", "message"]', 400, "expected a JSON object"),
        (body(message="hi"), 400, '"sender" is required'),
        (body(sender="  ", message="hi"), 400, '"sender" is required'),
        (body(sender=5, message="hi"), 400, '"sender" is required'),
        (body(sender="s" * (MAX_SENDER_CHARS + 1), message="hi"), 400, "longer than"),
        (body(sender="me"), 400, '"message" is required'),
        (body(sender="me", message=["hi"]), 400, '"message" is required'),
        (body(sender="me", message="m" * (MAX_MESSAGE_CHARS + 1)), 413, "longer than"),
        (body(sender="me", message="hi", metadata="fi"), 400, '"metadata" must be'),
    ],
)
def test_a_broken_request_is_refused_with_its_status_and_reason(
    raw: bytes, status: int, reason: str
) -> None:
    with pytest.raises(RequestError) as refused:
        parse_body(raw)
    assert refused.value.status == status
    assert reason in refused.value.reason
