"""The console against the real Rasa and action servers, and in a real headless Chromium.

Rasa runs with its HTTP API on (--enable-api --auth-token), as `make console` starts it, over a
fresh SQLite tracker store. Exports go to a temporary folder and are checked with Rasa's own
tools: `rasa data validate` (with the project's data) and `rasa test core` (with the model).
Screenshots: test-artifacts/console-*.png.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from console.app import make_app
from opastin.config import Settings
from opastin.stack import BOT_DIR, QUIET_ENV, RASA_BIN, Stack
from tests.aiohttp_server import serve
from tests.chromium import observations, require_browser, run_driver
from tests.console.conftest import PASSWORD, USER, Clock, Running, console_settings, pseudonym
from tests.e2e.conftest import ARTIFACTS, e2e_settings, post_json

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "console-e2e-" + secrets.token_hex(8)
DRIVER = Path(__file__).with_name("console_drive.js")
MODELS_DRIVER = Path(__file__).with_name("models_drive.js")
EVAL_DATA = Path(__file__).with_name("data")


def rasa(*args: str) -> subprocess.CompletedProcess[str]:
    """Rasa's own CLI from bot/, as tests/rasa/test_rasa_project.py runs it."""
    env = {**QUIET_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(BOT_DIR)}
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=BOT_DIR, env=env, capture_output=True, text=True, timeout=600
    )


def isolated_var(tmp: Path, model: Path) -> Path:
    """A var folder of the stack's own, since the console publishes into it: a copy of the
    project's index, the model the stack starts with, and the project's sentence-vector cache
    (shared, so the console's training finds the vectors `opastin prepare` computed)."""
    project = Settings()
    var = tmp / "var"
    (var / "models").mkdir(parents=True)
    shutil.copytree(project.index_dir, var / "index")
    (var / "models" / model.name).symlink_to(model)
    project.feature_cache_dir.mkdir(parents=True, exist_ok=True)
    (var / "cache").symlink_to(project.feature_cache_dir)
    return var


@pytest.fixture(scope="module")
def bot(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("console-e2e")
    settings = e2e_settings(tmp).model_copy(update={"var_dir": isolated_var(tmp, prepared)})
    stack = Stack(settings, prepared, ARTIFACTS / "logs" / "console")
    with stack.started(rasa_args=("--enable-api", "--auth-token", TOKEN)):
        yield stack


def start_console(bot: Stack, tmp: Path, token: str = TOKEN) -> tuple[Running, object]:
    settings = console_settings(
        tmp,
        bot.settings.tracker_path,
        rasa_url=bot.rasa_url,
        rasa_token=token,
        # Small labelled sets, so an evaluation takes seconds (the real ones are the defaults).
        eval_dev=str(EVAL_DATA / "eval_dev.yaml"),
        eval_holdout=str(EVAL_DATA / "eval_holdout.yaml"),
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


# The staff loop of issue 17: a newcomer's message, annotated in the inbox, trained into a
# candidate, compared and published from the browser; then a rollback through the API.
# The annotation names the organisation, not an intent: the training data stays as it is, so
# Rasa's training cache makes the training quick (an NLU example retrains the classifier: a few
# minutes; the staging of annotated examples is tested in test_models.py).
NEWCOMER_TEXT = "My new boss keeps asking for some tax paper, what is that?"
ANNOTATED_ORG = "vero"


def rasa_api(bot: Stack, method: str, path: str, body: object = None) -> object:
    request = urllib.request.Request(
        f"{bot.rasa_url}{path}?token={TOKEN}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


class Conversation(threading.Thread):
    """A newcomer asking every two seconds through the REST channel while staff work: each
    question must be answered, during the model swap too."""

    def __init__(self, bot: Stack) -> None:
        super().__init__(daemon=True)
        self.url = f"{bot.rasa_url}/webhooks/rest/webhook"
        self.sender = "newcomer-" + secrets.token_hex(6)
        self.turns: list[tuple[float, float, int, int]] = []  # start ms, seconds, status, replies
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            started = time.time()
            status, replies = post_json(
                self.url, {"sender": self.sender, "message": "How do I get a tax card?"}, 300
            )
            count = len(replies) if isinstance(replies, list) else 0
            self.turns.append((started * 1000, time.time() - started, status, count))
            self.done.wait(2)


# A training in the console, an index build and two evaluations: 3 minutes on the idle machine
# with Rasa's training cache warm, up to 11 with it cold (docs/console.md), beyond what the
# whole suite may spend. It runs with `make test-staff-loop` (TEST_STAFF_LOOP=1); `make test`
# reports it as skipped with this reason, never as passed.
@pytest.mark.timeout(1800)
@pytest.mark.skipif(
    os.environ.get("TEST_STAFF_LOOP") != "1",
    reason="the staff loop trains a model (3-11 min): run `make test-staff-loop`",
)
def test_inbox_annotate_train_compare_publish_and_roll_back(live, bot, browser_tools):
    status, _ = post_json(
        f"{bot.rasa_url}/webhooks/rest/webhook",
        {"sender": "newcomer-" + secrets.token_hex(6), "message": NEWCOMER_TEXT},
    )
    assert status == 200
    started_with = rasa_api(bot, "GET", "/status")["model_file"]
    conversation = Conversation(bot)
    conversation.start()
    try:
        result = run_driver(
            MODELS_DRIVER,
            {
                "url": live.url, "user": USER, "password": PASSWORD, "timeoutMs": 60000,
                "trainTimeoutMs": 900000, "search": "tax paper", "message": NEWCOMER_TEXT,
                "organisation": ANNOTATED_ORG,
            },
            timeout=1200,
        )  # fmt: skip
    finally:
        conversation.done.set()
        conversation.join(timeout=300)
    if result.returncode != 0:
        pytest.fail(f"the models browser scenario failed:\n{result.stderr[-6000:]}")
    seen = observations(result)
    (ARTIFACTS / "console-models.json").write_text(json.dumps(seen, indent=2))
    assert seen["events"]["pageErrors"] == [] and seen["events"]["dialogs"] == []
    assert ANNOTATED_ORG in seen["annotation"]

    # Training ran in the background with visible stages and output, one job at a time.
    assert seen["trainButtonDisabledWhileRunning"]
    # The page is sampled every half second: a quick stage (the index) may pass unseen.
    assert "train model" in seen["stagesSeen"] and len(seen["stagesSeen"]) >= 2, seen["stagesSeen"]
    # The comparison: the small sets' language (en) and ALL, for the candidate and the
    # running model side by side, and the NLU accuracy of both; nothing below the floors.
    assert [row.split("\t")[0] for row in seen["comparison"]] == ["en", "ALL"]
    assert all(row.count("%") == 6 for row in seen["comparison"]), seen["comparison"]
    assert seen["comparisonNlu"].count("(n=36)") == 2, seen["comparisonNlu"]  # NLU fallback
    assert seen["belowFloors"] == 0
    assert seen["publishMessage"] == "publishing: done", seen["publishMessage"]

    # Rasa serves the candidate, and the action server's index is the candidate's.
    status_now = rasa_api(bot, "GET", "/status")["model_file"]
    history = live.logged_in().get("/api/models").json()
    candidate, previous = history["history"][0], history["history"][1]
    assert status_now == candidate["model"] != started_with
    assert previous["model"] == started_with and previous["evaluation"]["nlu"]["n"] == 36
    assert candidate["published_by"] == USER and candidate["trained_by"] == USER
    index_manifest = json.loads((bot.settings.index_dir / "manifest.json").read_text())
    models_dir = live.settings.models_dir
    candidate_manifest = json.loads(
        (models_dir / candidate["id"] / "index" / "manifest.json").read_text()
    )
    assert index_manifest == candidate_manifest

    # No downtime: every question was answered, those asked during the swap included.
    turns = conversation.turns
    assert turns and all(status == 200 and replies > 0 for _, _, status, replies in turns), turns
    during = [t for t in turns if seen["publishClickedAt"] <= t[0] <= seen["publishDoneAt"]]
    assert during, "no question was asked while the model was swapped"
    (ARTIFACTS / "console-swap-latency.json").write_text(json.dumps([t[1] for t in turns]))

    # Rollback to the model the bot started with, through the same API the page uses.
    client = live.logged_in()
    response = client.post(f"/api/models/{previous['id']}/publish")
    assert response.status == 200, response.body
    assert rasa_api(bot, "GET", "/status")["model_file"] == started_with
    again = client.get("/api/models").json()["history"]
    assert [e["id"] for e in again[:2]] == [previous["id"], candidate["id"]]

    # The staff guide's screenshots (docs/console.md) come from this run.
    for name in ("inbox", "annotate", "training", "compare", "published"):
        assert (ARTIFACTS / f"console-{name}.png").stat().st_size > 10_000
