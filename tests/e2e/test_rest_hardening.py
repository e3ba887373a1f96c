"""REST for integrators: broken requests get a 4xx with a reason; the HTTP API needs a token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from opastin.stack import Stack
from tests.e2e.conftest import ARTIFACTS, ask, e2e_settings, payload

pytestmark = pytest.mark.e2e


def post_raw(url: str, body: bytes, content_type: str = "application/json", headers=None):
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def get(url: str, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'["a", "list"]', 400, "expected a JSON object"),
        (json.dumps({"message": "hi"}).encode(), 400, '"sender" is required'),
        (json.dumps({"sender": "", "message": "hi"}).encode(), 400, '"sender" is required'),
        (json.dumps({"sender": "x"}).encode(), 400, '"message" is required'),
        (json.dumps({"sender": "x", "message": 42}).encode(), 400, '"message" is required'),
        (json.dumps({"sender": "x", "message": "hi", "metadata": 1}).encode(), 400, "metadata"),
        (b"\xff\xfe\x00binary\x00\x01", 400, "not UTF-8"),
        (json.dumps({"sender": "x", "message": "a" * 1_000_000}).encode(), 413, "over"),
        (json.dumps({"sender": "x", "message": "a" * 3000}).encode(), 413, "longer than"),
    ],
)
def test_malformed_request_gets_4xx_with_reason(stack, body, status, reason):
    code, raw, _ = post_raw(f"{stack.rasa_url}/webhooks/rest/webhook", body)
    assert code == status, raw[:300]
    error = json.loads(raw)["error"]
    assert reason in error
    assert "Traceback" not in raw.decode(errors="replace")


def test_server_keeps_serving_after_bad_requests(stack):
    for body in (b"{", b"\x00\x01", b"[]"):
        post_raw(f"{stack.rasa_url}/webhooks/rest/webhook", body)
    answer = payload(ask(stack, "after-bad", "How do I get a tax card?"))
    assert answer["organisations"][0]["id"] == "vero"


def test_http_api_is_not_exposed_by_default(stack):
    code, _, _ = get(f"{stack.rasa_url}/conversations/after-bad/tracker")
    assert code == 404
    code, _, headers = get(f"{stack.rasa_url}/", {"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_the_action_server_gives_browsers_no_cors_permission(stack):
    """Only Rasa calls the action server; rasa-sdk's default would answer any origin with `*`."""
    origin = {"Origin": "https://evil.example"}
    code, _, headers = get(f"{stack.actions_url}/health", origin)
    assert code == 200
    assert "Access-Control-Allow-Origin" not in headers
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    request = urllib.request.Request(f"{stack.actions_url}/webhook", method="OPTIONS")
    for name, value in preflight.items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=30) as response:
        allowed = dict(response.headers)
    assert "Access-Control-Allow-Origin" not in allowed
    assert "Access-Control-Allow-Methods" not in allowed


def test_http_api_requires_the_token_and_cors_is_restricted(prepared, tmp_path):
    settings = e2e_settings(tmp_path).model_copy(
        update={"rasa_api_token": "s3cret-token", "cors_origins": "https://www.hel.fi"}
    )
    stack = Stack(settings, prepared, ARTIFACTS / "logs-api")
    with stack.started():
        ask(stack, "api-user", "How do I get a tax card?")
        tracker_url = f"{stack.rasa_url}/conversations/api-user/tracker"
        assert get(tracker_url)[0] == 401
        assert get(f"{tracker_url}?token=wrong")[0] == 401
        code, raw, _ = get(f"{tracker_url}?token=s3cret-token")
        assert code == 200 and json.loads(raw)["sender_id"] == "api-user"
        _, _, allowed = get(f"{stack.rasa_url}/", {"Origin": "https://www.hel.fi"})
        assert allowed.get("Access-Control-Allow-Origin") == "https://www.hel.fi"
        _, _, refused = get(f"{stack.rasa_url}/", {"Origin": "https://evil.example"})
        assert refused.get("Access-Control-Allow-Origin") != "https://evil.example"
