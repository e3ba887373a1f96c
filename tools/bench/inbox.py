"""Inbox benchmark: page-load times of the staff console's inbox over a large tracker store.

    python -m tools.bench.inbox [--messages 100000] [--repeat 7]

Generates a SQLite tracker store in Rasa's schema with N user messages (about four per
conversation, each followed by the actions, bot message and slot events Rasa writes: roughly
six events per message), then serves the real console (aiohttp, middlewares, roles) on a free
port and times over HTTP: the first load (which builds the inbox's derived table), pages
newest first, deep pages, every filter, the search box, and the refresh after new messages.
Prints p50 and the worst of `--repeat` loads in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, CookieJar, web

from console.app import make_app
from console.auth import hash_password
from console.settings import ConsoleSettings
from opastin.config import ROOT, Settings
from tools.servers import free_port
from tools.stats import percentiles_ms

USER, PASSWORD = "bench", "a long benchmark password"
EVENTS_TABLE = """
CREATE TABLE events (
    id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),
    action_name VARCHAR(255), data TEXT
);
CREATE INDEX ix_events_sender_id ON events (sender_id);  -- as Rasa's SQLTrackerStore makes it
"""
QUESTIONS = {
    "en": [("how do I get a tax card", "tax_registration", "vero"),
           ("where do I apply for a residence permit", "residence_permit", "migri"),
           ("I need a personal identity code", "population_registration", "dvv"),
           ("how do I find a job in Espoo", "job_search", "employment_services")],
    "fi": [("miten saan verokortin", "tax_registration", "vero"),
           ("oleskelulupa työhön", "residence_permit", "migri")],
    "sv": [("hur får jag ett skattekort", "tax_registration", "vero")],
}  # fmt: skip
CHANNELS = ["socketio", "rest", "telegram"]
QUERIES = {
    "newest page": {},
    "page 100 (offset 4950)": {"offset": 4950},
    "low confidence": {"low_confidence": 1},
    "fallback": {"fallback": 1},
    "clarifying question": {"clarifying": 1},
    "negative feedback": {"negative": 1},
    "language fi": {"language": "fi"},
    "date range (1 day)": {"date_from": "2026-06-10", "date_to": "2026-06-10"},
    "search 'verokortin'": {"q": "verokortin"},
    "search 'zzz' (no match)": {"q": "zzz"},
    "tag": {"tag": "needs corpus update"},
    "not annotated, low confidence": {"annotated": "no", "low_confidence": 1},
}


def _events(sender: str, start: float, messages: int, rng: random.Random) -> Iterator[dict]:
    """One conversation in the shape Rasa 3.6 writes (see tests/console/conftest.py)."""
    clock = start
    language = rng.choice(["en", "en", "en", "fi", "sv"])
    channel = rng.choice(CHANNELS)

    def event(kind: str, **data: Any) -> dict[str, Any]:
        nonlocal clock
        clock += rng.uniform(1, 30)
        return {"event": kind, "timestamp": clock, **data}

    yield event("action", name="action_session_start")
    yield event("session_started")
    for _ in range(messages):
        text, intent, org = rng.choice(QUESTIONS[language])
        roll = rng.random()
        confidence = round(rng.uniform(0.2, 0.99), 3)
        if roll < 0.08:
            intent, text = "nlu_fallback", f"qwzx {rng.randrange(10**6)}"
        elif roll < 0.12:
            intent, text = "feedback", "wrong answer" if language == "en" else "väärä vastaus"
        text = f"{text} {rng.randrange(1000)}"
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": [],
                 "text": text, "metadata": {"language": language}}  # fmt: skip
        yield event("user", text=text, parse_data=parse, input_channel=channel)
        yield event("action", name="action_answer_question", policy="RulePolicy", confidence=1.0)
        if intent == "nlu_fallback":
            custom = {"type": "no_answer", "reason": "low_confidence", "language": language}
        elif roll < 0.2:
            custom = {"type": "clarification", "slot": "municipality", "language": language}
        else:
            custom = {"type": "service_answer", "organisations": [{"id": org}],
                      "confidence": confidence, "language": language}  # fmt: skip
        yield event("bot", text="An answer.", data={"custom": custom})
        yield event("slot", name="language", value=language)
        yield event("action", name="action_listen")


def generate(path: Path, messages: int, seed: int = 17) -> int:
    """A tracker store with `messages` user messages over ~30 days; returns the event count."""
    rng = random.Random(seed)
    start = time.mktime((2026, 6, 1, 12, 0, 0, 0, 0, -1))
    db = sqlite3.connect(path)
    db.executescript(EVENTS_TABLE)
    written, conversation, rows = 0, 0, []
    while written < messages:
        count = min(rng.randint(1, 7), messages - written)
        sender = f"web-{conversation:07d}"
        begin = start + rng.uniform(0, 30 * 86400)
        for e in _events(sender, begin, count, rng):
            intent = (e.get("parse_data") or {}).get("intent", {}).get("name")
            rows.append((sender, e["event"], e["timestamp"], intent, e.get("name"), json.dumps(e)))
        written += count
        conversation += 1
        if len(rows) > 50_000:
            db.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                           "action_name, data) VALUES (?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
            rows.clear()
    db.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                   "action_name, data) VALUES (?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
    db.commit()
    events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    db.close()
    return int(events)


async def _measure(url: str, repeat: int, tracker: Path) -> None:
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as http:  # an IP host
        form = await (await http.get(f"{url}/login")).text()
        token = form.split('name="csrf" value="')[1].split('"')[0]
        await http.post(f"{url}/login", data={"username": USER, "password": PASSWORD,
                                              "csrf": token}, allow_redirects=False)  # fmt: skip
        meta = await (await http.get(f"{url}/api/meta")).json()
        if "csrf" not in meta:
            raise SystemExit(f"error: could not log in: {meta}")
        headers = {"X-CSRF-Token": meta["csrf"]}

        async def load(query: dict[str, Any]) -> tuple[float, dict[str, Any]]:
            began = time.perf_counter()
            response = await http.get(f"{url}/api/inbox", params={**query, "limit": 50})
            body = await response.json()
            if response.status != 200:
                raise SystemExit(f"error: {response.status} {body}")
            return time.perf_counter() - began, body

        began = time.perf_counter()
        first, body = await load({})
        while body["updating"]:  # the console builds its table at start-up
            await asyncio.sleep(1)
            _, body = await load({})
        built = time.perf_counter() - began
        print(f"first page while the table builds: {first * 1000:.0f} ms")
        print(f"table built (started with the console): {built:.1f} s, {body['total']} messages")
        # a tag and an annotation on some messages, so those filters have something to find
        some = [{"sender_id": i["sender_id"], "turn": i["turn"]} for i in body["items"][:20]]
        await http.post(f"{url}/api/tags", json={"tag": "needs corpus update",
                                                 "messages": some}, headers=headers)  # fmt: skip
        await http.post(f"{url}/api/inbox/annotations", json={"messages": some[:10],
                        "organisation": "vero"}, headers=headers)  # fmt: skip
        print(f"{'page (50 rows)':<32} {'matches':>8} {'p50 ms':>8} {'max ms':>8}")
        for name, query in QUERIES.items():
            times = []
            for _ in range(repeat):
                seconds, body = await load(query)
                times.append(seconds)
            ms = percentiles_ms(times, (50, 100))
            print(f"{name:<32} {body['total']:>8} {ms[50]:>8.0f} {ms[100]:>8.0f}")
        db = sqlite3.connect(tracker)
        last = db.execute("SELECT MAX(timestamp) FROM events").fetchone()[0]
        rows = [
            (f"web-new-{i}", e["event"], e["timestamp"], None, e.get("name"), json.dumps(e))
            for i in range(10)
            for e in _events(f"web-new-{i}", last, 2, random.Random(i))
        ]
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                       "action_name, data) VALUES (?, ?, ?, ?, ?, ?)", rows)  # fmt: skip
        db.commit()
        db.close()
        seconds, body = await load({})
        print(f"{'after 10 new conversations':<32} {body['total']:>8} {seconds * 1000:>8.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.inbox")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    if args.messages < 1 or args.repeat < 1:
        raise SystemExit("error: --messages and --repeat must be at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        events = generate(folder / "tracker.db", args.messages)
        print(f"generated {args.messages} user messages, {events} events in "
              f"{time.perf_counter() - began:.1f} s")  # fmt: skip
        config = ConsoleSettings(
            accounts=f"{USER}:{hash_password(PASSWORD, n=2**10)}",
            accounts_file=folder / "accounts.txt",
            roles=f"{USER}:annotator",
            tracker_url=str(folder / "tracker.db"),
            state_db=folder / "console.db",
            annotated_nlu_dir=folder / "annotated",
            annotated_questions=folder / "annotated.yaml",
        )
        app = make_app(config, Settings(corpus_dir=ROOT / "knowledge" / "organisations"))
        asyncio.run(_serve_and_measure(app, args.repeat, folder / "tracker.db"))
    return 0


async def _serve_and_measure(app: web.Application, repeat: int, tracker: Path) -> None:
    port = free_port("127.0.0.1")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await _measure(f"http://127.0.0.1:{port}", repeat, tracker)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
