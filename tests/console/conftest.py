"""Console test fixtures: a tracker store with Rasa's schema, the console app on a free port,
and a small HTTP client that keeps cookies and never follows redirects.

The synthetic events have the shape Rasa 3.6 writes (captured from a real conversation), so
the API tests run in a second; tests/console/test_console_e2e.py uses the real servers.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from argon2 import PasswordHasher

from console import auth
from console.app import make_app
from console.pseudonyms import Pseudonyms
from console.settings import ConsoleSettings
from opastin.config import ROOT, Settings
from tests.aiohttp_server import serve

USER, PASSWORD = "staff.one", "a long staff password"
# argon2id with the production parameters costs ~0.4 s per hash or login on this machine, and
# the console tests log in a few hundred times. Tests marked `real_password_hashes` (the ones
# about the parameters and rehashing) use them; the others hash with the cheapest argon2id
# parameters: the same code path, salts and verification, a thousand times faster.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("real_password_hashes") is None:
        monkeypatch.setattr(auth, "HASHER", CHEAP_HASHER)


def account_line() -> str:
    """`USER:hash` under the hasher in use (hashed once per hasher: argon2id takes a while)."""
    return _account_line(auth.HASHER)


@functools.cache
def _account_line(hasher: PasswordHasher) -> str:
    return f"{USER}:{hasher.hash(PASSWORD)}"


SENDER_KEY = "a test key for the console's sender-id hashes"
# Rasa's SQLEvent table (rasa/core/tracker_store.py), as SQLAlchemy creates it in SQLite.
EVENTS_TABLE = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER NOT NULL PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
)
"""
DAY = 86400
MINI_CORPUS = ROOT / "tests" / "data" / "mini_corpus"
HELSINKI = ZoneInfo("Europe/Helsinki")  # the console's default time zone for days
TODAY = datetime.now(HELSINKI).date()
# The samples are placed around noon, Helsinki time, so no day boundary falls between them
# whatever the hour the tests run at.
NOON_TODAY = datetime.combine(TODAY, dt_time(12, 0), HELSINKI).timestamp()


def pseudonym(sender_id: str) -> str:
    """The name the console gives a sender id under the tests' key (CONSOLE_SENDER_KEY)."""
    name = Pseudonyms(SENDER_KEY.encode()).of(sender_id)
    _SENDERS[name] = sender_id
    return name


_SENDERS: dict[str, str] = {}


def sender_of(conversation: str) -> str:
    """The sender id behind a hash the console returned (of a conversation a test wrote)."""
    return _SENDERS[conversation]


class Conversation:
    """Builds one conversation's events in Rasa's JSON format, a few milliseconds apart."""

    def __init__(self, sender_id: str, start: float, channel: str = "rest") -> None:
        self.sender_id = sender_id
        pseudonym(sender_id)  # so that sender_of() can name it in assertions
        self.clock = start
        self.channel = channel
        self.events: list[dict[str, Any]] = []
        self._add("action", name="action_session_start", policy=None, confidence=1.0)
        self._add("session_started")
        self._add("action", name="action_listen", policy=None, confidence=None)

    def _add(self, kind: str, **data: Any) -> Conversation:
        self.clock += 0.01
        meta = {"model_id": "test", "assistant_id": "opastin"}
        self.events.append({"event": kind, "timestamp": self.clock, "metadata": meta, **data})
        return self

    def user(
        self,
        text: str,
        intent: str,
        confidence: float = 0.9,
        entities: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Conversation:
        message_id = uuid.uuid4().hex
        parse = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "text": text,
            "message_id": message_id,
            "metadata": metadata or {},
            "intent_ranking": [
                {"name": intent, "confidence": confidence},
                {"name": "greet", "confidence": round(1 - confidence, 4)},
            ],
        }
        return self._add(
            "user",
            text=text,
            parse_data=parse,
            input_channel=self.channel,
            message_id=message_id,
        )

    def slot(self, name: str, value: Any) -> Conversation:
        return self._add("slot", name=name, value=value)

    def action(self, name: str) -> Conversation:
        return self._add("action", name=name, policy="RulePolicy", confidence=1.0)

    def bot(self, text: str, custom: dict[str, Any] | None = None) -> Conversation:
        data = {"elements": None, "buttons": None, "custom": custom}
        return self._add("bot", text=text, data=data)

    def listen(self) -> Conversation:
        return self.action("action_listen")

    def answer(self, orgs: list[str], language: str = "en", score: float = 0.83) -> Conversation:
        """action_answer_question naming organisations, as actions/answer_question.py does."""
        payload = {
            "type": "service_answer",
            "organisations": [
                {"id": o, "name": ORG_NAMES.get(o, o), "url": f"https://{o}.example/"} for o in orgs
            ],
            "services": [
                {
                    "id": f"{o}.service",
                    "title": f"{o} service",
                    "organisation": o,
                    "url": f"https://{o}.example/s",
                    "score": round(score - i * 0.1, 3),
                }
                for i, o in enumerate(orgs)
            ],
            "confidence": score,
            "language": language,
        }
        self.action("action_answer_question")
        self.bot(f"{ORG_NAMES.get(orgs[0], orgs[0])} handles this.", payload)
        return self.slot("language", language).listen()

    def no_answer(self, reason: str = "low_confidence", language: str = "en") -> Conversation:
        self.action("action_answer_question")
        payload = {"type": "no_answer", "reason": reason, "language": language}
        self.bot("I'm not sure I understood.", payload)
        return self.slot("language", language).listen()

    def utter(self, action: str, text: str) -> Conversation:
        self.action(action)
        self.bot(text)
        return self.listen()


ORG_NAMES = {
    "vero": "Finnish Tax Administration",
    "migri": "Finnish Immigration Service",
    "dvv": "Digital and Population Data Services Agency",
}


def write_store(db: Path, conversations: list[Conversation]) -> None:
    """Append the conversations' events to a SQLite tracker store, as Rasa would."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute(EVENTS_TABLE)
        for conversation in conversations:
            for event in conversation.events:
                connection.execute(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                    "action_name, data) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        conversation.sender_id,
                        event["event"],
                        event["timestamp"],
                        (event.get("parse_data") or {}).get("intent", {}).get("name"),
                        event.get("name"),
                        json.dumps(event),
                    ),
                )
        connection.commit()


def sample_conversations(now: float) -> list[Conversation]:
    """Five conversations over three days, covering every filter of the list."""
    c1 = (
        Conversation("web-aaa", now - 2 * DAY, channel="socketio")
        .user("hello", "greet", 0.95, metadata={"language": "en"})
        .slot("language", "en")
        .utter("utter_greet", "Hi! I'm Opastin.")
        .user(
            "How do I get a tax card? Mail me at maija.meikalainen@example.fi", "tax_registration"
        )
        .answer(["vero"])
    )
    c2 = (
        Conversation("tg-bbb", now - DAY, channel="telegram")
        .user("Miten saan oleskeluluvan? Soita 040 123 4567", "residence_permit", 0.88)
        .answer(["migri"], language="fi")
        .user("väärä vastaus", "feedback", 0.91)
        .utter("utter_feedback_thanks", "Thank you for the feedback, it helps us improve.")
    )
    c3 = (
        Conversation("web-ccc", now - 3600, channel="socketio")
        .user("qwzx blorp 131052-308T", "nlu_fallback", 0.25)
        .no_answer()
        .user(
            "I live in Espoo and need to register",
            "population_registration",
            0.93,
            entities=[{"entity": "municipality", "start": 10, "end": 15, "value": "espoo"}],
        )
        .slot("municipality", "espoo")
        .answer(["dvv", "vero"])
        .user("great answer, thanks", "feedback", 0.8)
        .utter("utter_feedback_thanks", "Thank you for the feedback, it helps us improve.")
    )
    c4 = (
        Conversation("web-ddd", now - 1800, channel="socketio")
        .user("tell me a joke", "out_of_scope", 0.92)
        .utter("utter_out_of_scope", "Sorry, I can only help with ...")
    )
    c4.events[-2]["data"]["custom"] = {"type": "no_answer", "reason": "out_of_scope"}
    c5 = (
        Conversation("console-test-0123456789abcdef", now - 600)
        .user("<img src=x onerror=alert(1)> tax card", "tax_registration", 0.7)
        .answer(["vero"])
    )
    return [c1, c2, c3, c4, c5]


@dataclass
class Clock:
    """A monotonic clock the tests move forward (session expiry, throttling)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Client:
    """A browser-like client: cookies kept per name, redirects returned, not followed."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    source: str = ""  # another loopback address (127.0.0.2) to act as a second client machine

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> Response:
        parts = urlsplit(self.base)
        connection = http.client.HTTPConnection(
            parts.hostname,
            parts.port,
            timeout=60,
            source_address=(self.source, 0) if self.source else None,
        )
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0].strip('"')
            if value and "Max-Age=0" not in cookie and "expires=Thu, 01 Jan 1970" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def get(self, path: str, **query: Any) -> Response:
        return self.request("GET", path + ("?" + urlencode(query) if query else ""))

    def post(self, path: str, json_body: Any = None, csrf: bool = True, **kw: Any) -> Response:
        headers = kw.pop("headers", {})
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.request("POST", path, json_body=json_body, headers=headers, **kw)

    def login(self, user: str = USER, password: str = PASSWORD) -> Response:
        page = self.get("/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urlencode({"username": user, "password": password, "csrf": token}).encode()
        response = self.request(
            "POST",
            "/login",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status == 303:
            self.csrf = self.get("/api/meta").json()["csrf"]
        return response


def console_settings(tmp: Path, tracker: Path, **overrides: Any) -> ConsoleSettings:
    values: dict[str, Any] = {
        "accounts_file": tmp / "accounts.txt",
        "accounts": account_line(),
        "roles": f"{USER}:admin",
        "annotated_nlu_dir": tmp / "export" / "annotated",
        "annotated_questions": tmp / "export" / "annotated.yaml",
        "tracker_url": str(tracker),
        "state_db": tmp / "console.db",
        "stories_dir": tmp / "export" / "stories",
        "suggestions_dir": tmp / "suggestions",
        "nlu_dir": tmp / "export" / "nlu",
        "questions_dir": tmp / "export" / "questions",
        "models_dir": tmp / "models",
        "rasa_url": "http://127.0.0.1:9",  # nothing listens: Try it fails cleanly (502)
        "rasa_token": "not-used",
        "sender_key": SENDER_KEY,
    }
    values.update(overrides)
    return ConsoleSettings(**values)


@dataclass
class Running:
    url: str
    clock: Clock
    settings: ConsoleSettings
    tracker: Path
    app: web.Application

    def client(self, source: str = "") -> Client:
        return Client(self.url, source=source)

    def logged_in(self) -> Client:
        client = self.client()
        assert client.login().status == 303
        return client


def corpus_copy(tmp: Path) -> Path:
    """The mini corpus in a test's folder: accepted suggestions change it, never the repo's."""
    return Path(shutil.copytree(MINI_CORPUS, tmp / "corpus"))


@contextlib.contextmanager
def running_console(tmp: Path) -> Iterator[Running]:
    """The console over a tracker store with the five sample conversations, in `tmp`."""
    tracker = tmp / "tracker.db"
    write_store(tracker, sample_conversations(NOON_TODAY))
    clock = Clock()
    settings = console_settings(tmp, tracker)
    app = make_app(settings, Settings(corpus_dir=corpus_copy(tmp)), clock=clock)
    with serve(app) as url:
        yield Running(url, clock, settings, tracker, app)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Running]:
    """The console over a tracker store with the five sample conversations."""
    with running_console(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def shared_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One console for a module's tests that change nothing in it (refused requests): a
    console per test costs ~80 ms, and the refusal tests are parametrised over every route."""
    with running_console(tmp_path_factory.mktemp("console")) as running:
        yield running
