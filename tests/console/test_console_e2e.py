"""The console against the real Rasa and action servers, and in a real headless Chromium.

Rasa runs with its HTTP API on (--enable-api --auth-token), as `make console` starts it, over a
fresh SQLite tracker store. Exports go to a temporary folder and are checked with Rasa's own
tools: `rasa data validate` (with the project's data) and `rasa test core` (with the model).
Screenshots: test-artifacts/console-*.png.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from console.app import make_app
from opastin.stack import BOT_DIR, QUIET_ENV, RASA_BIN, Stack
from tests.aiohttp_server import serve
from tests.chromium import observations, require_browser, run_driver
from tests.console.conftest import PASSWORD, USER, Clock, Running, console_settings, pseudonym
from tests.e2e.conftest import ARTIFACTS, e2e_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "console-e2e-" + secrets.token_hex(8)
DRIVER = Path(__file__).with_name("console_drive.js")


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    """Rasa's own CLI from bot/, as tests/rasa/test_rasa_project.py runs it."""
    env = {**QUIET_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(BOT_DIR)}
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=BOT_DIR, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def bot(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = e2e_settings(tmp_path_factory.mktemp("console-e2e"))
    stack = Stack(settings, prepared, ARTIFACTS / "logs" / "console")
    with stack.started(rasa_args=("--enable-api", "--auth-token", TOKEN)):
        yield stack


def start_console(bot: Stack, tmp: Path, token: str = TOKEN) -> tuple[Running, object]:
    settings = console_settings(
        tmp, bot.settings.tracker_path, rasa_url=bot.rasa_url, rasa_token=token
    )
    app = make_app(settings, bot.settings)
    server = serve(app)
    url = server.__enter__()
    return Running(url, Clock(), settings, bot.settings.tracker_path, app), server


@pytest.fixture(scope="module")
def live(bot: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running, server = start_console(bot, tmp_path_factory.mktemp("console-live"))
    try:
        yield running
    finally:
        server.__exit__(None, None, None)


def test_try_it_shows_intent_slots_actions_services_and_organisations(live):
    client = live.logged_in()
    sender = client.post("/api/try/new").json()["sender_id"]
    response = client.post(
        "/api/try/message", {"sender_id": sender, "text": "How do I get a tax card?"}
    )
    assert response.status == 200, response.body
    data = response.json()
    assert any("custom" in r for r in data["replies"])
    turn = [t for t in data["turns"] if t["user"]][-1]
    assert turn["user"]["intent"] == "tax_registration" and turn["user"]["confidence"] > 0.5
    assert turn["user"]["channel"] == "rest"
    assert [a["name"] for a in turn["actions"]] == ["action_answer_question"]
    assert turn["slots"]["language"] == "en"
    answer = turn["answer"]
    assert answer["type"] == "service_answer"
    assert answer["organisations"][0]["id"] == "vero"
    assert all(isinstance(s["score"], float) for s in answer["services"])

    second = client.post(
        "/api/try/message",
        {"sender_id": sender, "text": "I live in Espoo and need a residence permit"},
    ).json()
    turn = [t for t in second["turns"] if t["user"]][-1]
    assert turn["slots"]["municipality"] == "espoo"
    # The bot answers, or asks which citizenship first; either way with the services it found.
    assert turn["answer"]["type"] in {"service_answer", "clarification"}
    assert turn["answer"]["services"][0]["organisation"] == "migri"
    assert len([t for t in second["turns"] if t["user"]]) == 2  # the whole conversation


def test_try_it_with_the_wrong_api_token_says_what_to_fix(bot, tmp_path):
    running, server = start_console(bot, tmp_path, token="wrong-token")
    try:
        client = running.logged_in()
        sender = client.post("/api/try/new").json()["sender_id"]
        response = client.post("/api/try/message", {"sender_id": sender, "text": "hello"})
        assert response.status == 502
        assert "--enable-api --auth-token" in response.json()["error"]
    finally:
        server.__exit__(None, None, None)


def test_a_real_conversation_is_listed_and_its_export_passes_rasa_test(live, bot, tmp_path):
    client = live.logged_in()
    sender = client.post("/api/try/new").json()["sender_id"]
    for text in ["hello", "How do I register my address? Mail me: a.b@example.com", "thanks"]:
        assert client.post("/api/try/message", {"sender_id": sender, "text": text}).status == 200
    listed = client.get("/api/conversations", source="tests", q="register my address").json()
    conversation = pseudonym(sender)  # the console names it by the keyed hash only
    assert [c["conversation"] for c in listed["items"]] == [conversation]
    assert listed["items"][0]["channels"] == ["rest"] and listed["items"][0]["messages"] == 3

    data = client.post(f"/api/conversations/{conversation}/export").json()
    story = Path(data["paths"]["story"])
    assert "a.b@example.com" not in story.read_text() and "<EMAIL>" in story.read_text()
    result = rasa(
        "test", "core", "--model", str(bot.model), "--stories", str(story),
        "--out", str(tmp_path / "results"), "--fail-on-prediction-errors",
    )  # fmt: skip
    failed = tmp_path / "results" / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details or result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def browser_tools() -> None:
    """Fail, never skip, when the browser, node or playwright-core is missing."""
    require_browser()


def drive(**config: object) -> dict:
    result = run_driver(DRIVER, config, timeout=300)
    if result.returncode != 0:
        error, _, observed = result.stderr.rpartition("\n{")
        pytest.fail(f"the console browser scenario failed:\n{error[-4000:]}\n{{{observed[:3000]}")
    return observations(result)


def test_staff_workflow_in_a_real_browser(live, browser_tools):
    seen = drive(
        url=live.url,
        timeoutMs=30000,
        user=USER,
        password=PASSWORD,
        question="How do I get a tax card? My phone is 040 123 4567",
        attack="<img src=x onerror=alert(1)>",
        unclear="qwzx blorp zyxw",
        fixIntent="tax_registration",
        fixIntentAlt="job_search",
        fixOrg="vero",
        search="blorp zyxw",
    )
    (ARTIFACTS / "console-browser.json").write_text(json.dumps(seen, indent=2, ensure_ascii=False))
    events = seen["events"]
    assert events["dialogs"] == [] and events["pageErrors"] == []
    assert seen["consoleErrorsBeforeLogout"] == []
    assert len(seen["loginConsoleErrors"]) == 1 and "401" in seen["loginConsoleErrors"][0]
    assert events["externalRequests"] == [], "the console must load nothing from outside"

    # Logged out, the page went to the login form; a wrong password was refused there.
    assert seen["loginUrl"].split("#")[0] == live.url + "/login"
    assert seen["wrongPasswordMessage"] == "Wrong user name or password."
    assert seen["user"] == USER

    # Try it: intent and confidence, slots, actions, services with scores, organisations.
    answer = seen["answerTurn"]
    assert answer["user"] == "How do I get a tax card? My phone is <PHONE>"
    assert answer["intent"] == "tax_registration"
    assert "language=" in answer["slots"] and "action_answer_question" in answer["actions"]
    assert answer["organisations"][0].startswith("★ Finnish Tax Administration (vero)")
    assert answer["services"] and all(
        row.split("\t")[-1].startswith("0.") for row in answer["services"]
    )
    # User text is text: the tag is shown literally and creates no element.
    assert seen["attackTurn"]["user"] == "<img src=x onerror=alert(1)>"
    assert seen["attackTurn"]["htmlElementsInUserBubble"] == 0

    # The transcript (from the tracker store) shows the same details, and the correction.
    assert seen["transcriptTurns"] == 3
    assert seen["transcriptAnswer"]["services"] == answer["services"]
    assert f"intent → {seen['correctedIntent']}" in seen["correctionBadge"]
    assert "organisation → vero" in seen["correctionBadge"]

    # The export: a story with the correction, the user message as an NLU example.
    story = yaml.safe_load(Path(seen["storyPath"]).read_text())
    users = [s for s in story["stories"][0]["steps"] if "user" in s]
    assert [u["user"] for u in users] == [
        answer["user"],
        "<img src=x onerror=alert(1)>",
        "qwzx blorp zyxw",
    ]
    assert users[2]["intent"] == seen["correctedIntent"]
    assert seen["nluPath"] and "qwzx blorp zyxw" in Path(seen["nluPath"]).read_text()
    assert "040 123 4567" not in seen["storyShown"]

    # The exported files pass Rasa's validation together with the project's data.
    result = rasa(
        "data", "validate", "--domain", "domain.yml", "--config", "config.yml",
        "--data", "data", seen["storyPath"], seen["nluPath"], "--fail-on-warnings",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    # The list found it by text; the summary drew its charts; logging out ended the session.
    assert seen["searchBoxAfter"] == "blorp zyxw"  # the filters stay visible as applied
    assert len(seen["listRows"]) == 1 and "How do I get a tax card?" in seen["listRows"][0]
    assert "conversations" in seen["totals"]
    assert all(seen["chartBars"][c] > 0 for c in ("chart-per-day", "chart-organisations"))
    assert seen["chartBars"]["chart-languages"] > 0
    assert seen["afterLogout"] == 401
    for name in ("login", "try-it", "transcript", "export", "conversations", "summary"):
        assert (ARTIFACTS / f"console-{name}.png").stat().st_size > 10_000
