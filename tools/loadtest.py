"""Load test: N concurrent conversations of M turns over REST and socket.io, then a store audit.

Why: the production topology (several Rasa instances sharing a PostgreSQL tracker store and a
Redis lock store) must neither lose nor duplicate anything under load. This client measures
throughput and latency, and afterwards reads the tracker store's `events` table and checks that
every user message and every bot reply the client saw is recorded exactly once, in its place.

    python -m tools.loadtest --store postgres --rasa 2 -n 40 -m 5     # local topology
    python -m tools.loadtest --url http://127.0.0.1:5005 --tracker-db sqlite:////path/tracker.db

The first form starts everything itself on loopback (PostgreSQL and Redis through
scripts/local_services.sh, the action server(s), the Rasa instances) and stops it afterwards;
the second drives servers that are already running. REST turns of a conversation alternate
between the Rasa instances, so consecutive turns are served by different instances; a socket.io
conversation sticks to one instance (as behind nginx's ip_hash) and reconnects to the next one
half-way, as after a page reload. Traffic goes to loopback addresses only, and every run is
bounded in conversations, turns and time. Exit status 0 only when there were no errors and the
store audit found nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import yaml

from opastin.config import ROOT, Settings
from opastin.stack import BOT_DIR, Stack, ensure_index, ensure_model, log
from tools.servers import free_port
from tools.stats import percentile

RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
SERVICES_SCRIPT = ROOT / "scripts" / "local_services.sh"
PREFLIGHT = ROOT / "deploy" / "preflight.py"
DEPLOY_ENDPOINTS = ROOT / "deploy" / "endpoints.yml"

MAX_CONVERSATIONS = 500
MAX_TURNS = 50
MAX_BURST = 8
MAX_TIME_LIMIT = 900.0
REQUEST_TIMEOUT = 30.0  # one turn; Rasa's lock waits and the action call fit well inside
# Socket.io has no end-of-turn marker: the next message goes after this silence. A reply that
# comes later under load is counted with the next turn; the audit of a socket.io conversation
# therefore compares the whole stream of replies, not turn by turn.
QUIET_SECONDS = 0.4
DRAIN_SECONDS = 2.0  # silence awaited before a socket is closed, so no reply is left behind

# What newcomers ask, in the languages the bot serves; greetings and thanks are turns too.
MESSAGES = (
    "Hello",
    "How do I get a tax card?",
    "I need a residence permit to work in Finland",
    "Where do I register my address?",
    "How can I find a job in Espoo?",
    "Miten saan verokortin?",
    "Hur registrerar jag min adress?",
    "Do I need a personal identity code?",
    "I want to start a business in Helsinki",
    "thank you",
)

Store = Literal["sqlite", "postgres"]
LockStoreKind = Literal["atomic", "redis", "none"]


def require_loopback(url: str) -> None:
    """Refuse any target that is not on this machine: load goes to loopback only."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"error: {url}: the load test only targets loopback addresses")


# --- results ------------------------------------------------------------------------------


@dataclass
class Turn:
    """One user message and what came back for it."""

    index: int
    text: str
    instance: int
    latency: float | None = None  # seconds to the (first) reply
    replies: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    failovers: int = 0  # instances that refused the connection before one took the message
    sent_at: float = 0.0  # time.monotonic() when the message was sent
    upstream: str | None = None  # the Rasa instance behind a proxy (deploy/nginx.conf's header)

    @property
    def kind(self) -> str:
        """service_answer, no_answer:<reason>, text, or error."""
        if self.error:
            return "error"
        for reply in self.replies:
            custom = reply.get("custom")
            if isinstance(custom, dict) and custom.get("type") == "no_answer":
                return f"no_answer:{custom.get('reason')}"
            if isinstance(custom, dict) and custom.get("type"):
                return str(custom["type"])
        return "text"


@dataclass
class Conversation:
    sender_id: str
    channel: Literal["rest", "socketio"]
    turns: list[Turn] = field(default_factory=list)
    ordered: bool = True  # False when several messages were in flight at once (burst)


@dataclass
class LoadReport:
    label: str
    conversations: list[Conversation]
    seconds: float
    problems: list[str] | None = None  # store audit; None when not audited

    def rows(self) -> list[dict[str, Any]]:
        """One row per channel and one for all: turns, errors, throughput, latency."""
        rows = []
        channels = sorted({c.channel for c in self.conversations})
        for channel in [*channels, "all"] if len(channels) > 1 else channels:
            turns = [
                t for c in self.conversations if channel in ("all", c.channel) for t in c.turns
            ]
            ok = [t.latency * 1000 for t in turns if not t.error and t.latency is not None]
            rows.append(
                {
                    "channel": channel,
                    "conversations": sum(
                        1 for c in self.conversations if channel in ("all", c.channel)
                    ),
                    "turns": len(turns),
                    "errors": sum(1 for t in turns if t.error),
                    "turns_per_s": len(ok) / self.seconds if self.seconds else 0.0,
                    "p50_ms": percentile(ok, 50) if ok else None,
                    "p95_ms": percentile(ok, 95) if ok else None,
                    "p99_ms": percentile(ok, 99) if ok else None,
                    "max_ms": max(ok) if ok else None,
                }
            )
        return rows

    @property
    def turns(self) -> list[Turn]:
        return [t for c in self.conversations for t in c.turns]

    @property
    def errors(self) -> list[str]:
        return [
            f"{c.sender_id} turn {t.index} ({c.channel}, instance {t.instance}): {t.error}"
            for c in self.conversations
            for t in c.turns
            if t.error
        ]

    @property
    def ok(self) -> bool:
        return not self.errors and self.problems == [] and bool(self.turns)

    def format(self) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.0f}"

        lines = [
            f"== {self.label}: {len(self.conversations)} conversations, "
            f"{len(self.turns)} turns in {self.seconds:.1f} s",
            f"{'channel':9} {'convs':>5} {'turns':>6} {'errors':>6} {'turns/s':>8} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}",
        ]
        for row in self.rows():
            lines.append(
                f"{row['channel']:9} {row['conversations']:5d} {row['turns']:6d} "
                f"{row['errors']:6d} {row['turns_per_s']:8.1f} {ms(row['p50_ms']):>7} "
                f"{ms(row['p95_ms']):>7} {ms(row['p99_ms']):>7} {ms(row['max_ms']):>7}"
            )
        kinds = Counter(t.kind for t in self.turns)
        lines.append("replies: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        failovers = sum(t.failovers for t in self.turns)
        if failovers:
            lines.append(f"failovers (connection refused, sent to the next instance): {failovers}")
        for error in self.errors[:10]:
            lines.append(f"error: {error}")
        if self.problems is None:
            lines.append("store audit: not run")
        elif not self.problems:
            users = sum(1 for t in self.turns if not t.error)
            lines.append(
                f"store audit: OK, {users} user messages and their bot replies each recorded "
                "exactly once, in order"
            )
        else:
            lines.append(f"store audit: {len(self.problems)} problem(s)")
            lines.extend(f"  {p}" for p in self.problems[:20])
        return "\n".join(lines)


# --- REST ---------------------------------------------------------------------------------


async def rest_turn(
    http: aiohttp.ClientSession, urls: list[str], first: int, sender: str, turn: Turn
) -> None:
    """POST one message; an instance that refuses the connection is skipped, like nginx does."""
    body = {"sender": sender, "message": turn.text, "metadata": {"loadtest_turn": turn.index}}
    turn.sent_at = time.monotonic()
    for attempt in range(len(urls)):
        turn.instance = (first + attempt) % len(urls)
        turn.error = None
        started = time.monotonic()
        try:
            async with http.post(
                f"{urls[turn.instance]}/webhooks/rest/webhook",
                json=body,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            ) as response:
                raw = await response.read()
                turn.latency = time.monotonic() - started
                turn.upstream = response.headers.get("X-Rasa-Upstream")
                if response.status != 200:
                    turn.error = f"HTTP {response.status}: {raw[:200].decode(errors='replace')}"
                    return
                replies = json.loads(raw or b"[]")
                turn.replies = replies if isinstance(replies, list) else []
                if not turn.replies:
                    turn.error = "silence: no reply"
                return
        except aiohttp.ClientConnectorError as error:
            turn.failovers += 1
            turn.error = f"connection refused: {error}"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            turn.error = f"{type(error).__name__}: {error}"
            return
    turn.failovers -= 1  # the last refusal is the error itself, not a failover


async def rest_conversation(
    http: aiohttp.ClientSession,
    urls: list[str],
    sender: str,
    texts: list[str],
    offset: int,
    deadline: float,
    think: float,
    burst: int = 1,
) -> Conversation:
    """Sequential turns, each to the next instance; with burst > 1, that many messages at once."""
    conversation = Conversation(sender, "rest", ordered=burst == 1)
    index = 0
    for step, text in enumerate(texts):
        if time.monotonic() > deadline:
            break
        batch = []
        for k in range(burst):
            label = text if burst == 1 else f"{text} ({k + 1}/{burst})"
            batch.append(Turn(index, label, 0))
            index += 1
        conversation.turns.extend(batch)
        await asyncio.gather(
            *(rest_turn(http, urls, offset + step + k, sender, t) for k, t in enumerate(batch))
        )
        if think:
            await asyncio.sleep(think)
    return conversation


# --- socket.io ----------------------------------------------------------------------------


class SocketIOPolling:
    """A minimal Socket.IO 5 client over Engine.IO 4 HTTP long-polling.

    Why hand-written: the Python socket.io client is not in the test environment, and the
    polling transport is what the widget falls back to and what must stick to one instance.
    """

    def __init__(self, http: aiohttp.ClientSession, base_url: str, origin: str) -> None:
        self.http = http
        self.url = f"{base_url}/socket.io/?EIO=4&transport=polling"
        self.headers = {"Origin": origin}
        self.sid = ""
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    async def _get(self) -> str:
        async with self.http.get(
            f"{self.url}&sid={self.sid}" if self.sid else self.url,
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=60),
        ) as response:
            body = await response.text()
            if response.status != 200:
                raise ConnectionError(f"socket.io poll: HTTP {response.status}: {body[:200]}")
            return body

    async def _post(self, packet: str) -> None:
        async with self.http.post(
            f"{self.url}&sid={self.sid}",
            data=packet.encode(),
            headers={**self.headers, "Content-Type": "text/plain;charset=UTF-8"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        ) as response:
            if response.status != 200:
                raise ConnectionError(f"socket.io post: HTTP {response.status}")

    async def open(self) -> None:
        handshake = (await self._get()).split("\x1e")[0]
        if not handshake.startswith("0"):
            raise ConnectionError(f"socket.io: unexpected handshake {handshake[:100]!r}")
        self.sid = json.loads(handshake[1:])["sid"]
        await self._post("40")
        self.reader = asyncio.create_task(self._read())
        name, _ = await self.next_event(REQUEST_TIMEOUT)
        if name != "connect":
            raise ConnectionError(f"socket.io: namespace connect refused ({name})")

    async def _read(self) -> None:
        try:
            while True:
                for packet in (await self._get()).split("\x1e"):
                    if packet == "2":
                        await self._post("3")  # pong, or the server drops the session
                    elif packet.startswith("40"):
                        self.events.put_nowait(("connect", None))
                    elif packet.startswith("42"):
                        name, *args = json.loads(packet[2:])
                        self.events.put_nowait((name, args[0] if args else None))
                    elif packet.startswith(("41", "44")) or packet == "1":
                        self.events.put_nowait(("disconnect", packet))
                        return
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
            self.events.put_nowait(("disconnect", f"{type(error).__name__}: {error}"))

    async def next_event(self, timeout: float) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def emit(self, event: str, data: Any) -> None:
        await self._post("42" + json.dumps([event, data]))

    async def close(self) -> None:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
            await self._post("1")
        if self.reader:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def socketio_session(
    http: aiohttp.ClientSession, url: str, origin: str, session_id: str
) -> SocketIOPolling:
    """Connect and ask for our session, as the widget does on every page load."""
    client = SocketIOPolling(http, url, origin)
    await client.open()
    await client.emit("session_request", {"session_id": session_id})
    while True:
        name, data = await client.next_event(REQUEST_TIMEOUT)
        if name == "session_confirm":
            if data != session_id:
                raise ConnectionError(f"socket.io: confirmed session {data!r}, not ours")
            return client
        if name == "disconnect":
            raise ConnectionError(f"socket.io: disconnected before session_confirm ({data})")


async def socketio_turn(client: SocketIOPolling, session_id: str, turn: Turn) -> None:
    """Send one message; the turn's replies are those until QUIET_SECONDS of silence."""
    started = turn.sent_at = time.monotonic()
    await client.emit(
        "user_uttered",
        {
            "message": turn.text,
            "session_id": session_id,
            "customData": {"loadtest_turn": turn.index},
        },
    )
    deadline = started + REQUEST_TIMEOUT
    while True:
        wait = deadline - time.monotonic() if not turn.replies else QUIET_SECONDS
        try:
            name, data = await client.next_event(max(0.01, wait))
        except asyncio.TimeoutError:
            if not turn.replies:
                turn.error = f"silence: no reply within {REQUEST_TIMEOUT:.0f} s"
            return
        if name == "bot_uttered" and isinstance(data, dict):
            if not turn.replies:
                turn.latency = time.monotonic() - started
            turn.replies.append(data)
        elif name in ("invalid_message", "disconnect"):
            turn.error = f"{name}: {data}"
            return


async def drain(client: SocketIOPolling, turn: Turn | None) -> None:
    """Collect replies still on their way before the socket is closed."""
    while True:
        try:
            name, data = await client.next_event(DRAIN_SECONDS)
        except asyncio.TimeoutError:
            return
        if name == "bot_uttered" and isinstance(data, dict) and turn is not None:
            turn.replies.append(data)
        elif name == "disconnect":
            return


async def socketio_conversation(
    http: aiohttp.ClientSession,
    urls: list[str],
    origin: str,
    texts: list[str],
    offset: int,
    deadline: float,
    think: float,
) -> Conversation:
    """One widget user: sticks to one instance, reconnects to the next one half-way."""
    session_id = uuid.uuid4().hex
    conversation = Conversation(session_id, "socketio")
    instance = offset % len(urls)
    client: SocketIOPolling | None = None
    try:
        for index, text in enumerate(texts):
            if time.monotonic() > deadline:
                break
            turn = Turn(index, text, instance)
            conversation.turns.append(turn)
            try:
                if client is not None and len(urls) > 1 and index == len(texts) // 2:
                    await drain(client, conversation.turns[-2])
                    await client.close()
                    client = None
                    instance = turn.instance = (instance + 1) % len(urls)
                if client is None:
                    client = await socketio_session(http, urls[instance], origin, session_id)
                await socketio_turn(client, session_id, turn)
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
                turn.error = f"{type(error).__name__}: {error}"
            if turn.error:  # reconnect for the next turn, through the balancer to another one
                if client is not None:
                    await client.close()
                    client = None
                instance = (instance + 1) % len(urls)
            if think:
                await asyncio.sleep(think)
        if client is not None and conversation.turns:
            await drain(client, conversation.turns[-1])
    finally:
        if client is not None:
            await client.close()
    return conversation


# --- the run ------------------------------------------------------------------------------


@dataclass
class LoadPlan:
    conversations: int = 10
    turns: int = 5
    socketio: int = 0  # how many of the conversations use socket.io instead of REST
    time_limit: float = 120.0
    think: float = 0.0
    burst: int = 1

    def validate(self) -> None:
        if not 1 <= self.conversations <= MAX_CONVERSATIONS:
            raise SystemExit(f"error: conversations must be 1..{MAX_CONVERSATIONS}")
        if not 1 <= self.turns <= MAX_TURNS:
            raise SystemExit(f"error: turns must be 1..{MAX_TURNS}")
        if not 0 <= self.socketio <= self.conversations:
            raise SystemExit("error: socket.io conversations must be 0..conversations")
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise SystemExit(f"error: time limit must be in (0, {MAX_TIME_LIMIT:.0f}] s")
        if not 1 <= self.burst <= MAX_BURST:
            raise SystemExit(f"error: burst must be 1..{MAX_BURST}")


def texts_for(conversation: int, turns: int) -> list[str]:
    return [MESSAGES[(conversation + t) % len(MESSAGES)] for t in range(turns)]


async def run_load(
    urls: list[str], plan: LoadPlan, origin: str, prefix: str = "load"
) -> tuple[list[Conversation], float]:
    """All conversations at once; new turns stop at the time limit. Returns them and the time."""
    plan.validate()
    for url in urls:
        require_loopback(url)
    run_id = uuid.uuid4().hex[:8]
    # A connection per request, like nginx to its upstreams (no upstream keepalive): a Rasa
    # instance that is shutting down then gets no new requests on old connections.
    connector = aiohttp.TCPConnector(limit=plan.conversations * plan.burst + 10, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        # Each instance's first turns are slow (lazy loading); measure the steady state.
        for i, url in enumerate(urls):
            for text in MESSAGES[:3]:
                await rest_turn(http, [url], 0, f"warmup-{run_id}-{i}", Turn(-1, text, i))
        deadline = time.monotonic() + plan.time_limit
        started = time.monotonic()
        jobs = []
        for c in range(plan.conversations):
            texts = texts_for(c, plan.turns)
            if c < plan.socketio:
                jobs.append(
                    socketio_conversation(http, urls, origin, texts, c, deadline, plan.think)
                )
            else:
                sender = f"{prefix}-{run_id}-{c:03d}"
                jobs.append(
                    rest_conversation(
                        http, urls, sender, texts, c, deadline, plan.think, plan.burst
                    )
                )
        conversations = await asyncio.wait_for(
            asyncio.gather(*jobs), plan.time_limit + 2 * REQUEST_TIMEOUT + 10
        )
    return list(conversations), time.monotonic() - started


# --- the store audit ----------------------------------------------------------------------

READ_EVENTS = """
import json, os, sys
import sqlalchemy as sa
senders = json.load(sys.stdin)
engine = sa.create_engine(os.environ["LOADTEST_DB_URL"])
query = sa.text(
    "SELECT sender_id, data FROM events WHERE sender_id IN :senders ORDER BY id"
).bindparams(sa.bindparam("senders", expanding=True))
events = {}
with engine.connect() as connection:
    for sender, data in connection.execute(query, {"senders": senders}):
        events.setdefault(sender, []).append(json.loads(data))
json.dump(events, sys.stdout)
"""


def read_events(db_url: str, senders: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The stored events of these conversations, in insertion order (Rasa's own SQL driver)."""
    if not db_url.startswith("sqlite"):
        require_loopback("//" + db_url.split("://", 1)[-1].rsplit("@", 1)[-1])
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", READ_EVENTS],
        input=json.dumps(senders),
        capture_output=True,
        text=True,
        env={**os.environ, "LOADTEST_DB_URL": db_url, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reading the tracker store failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def split_turns(events: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each stored user message with the bot messages that follow it up to the next one."""
    segments: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for event in events:
        if event.get("event") == "user":
            segments.append((event, []))
        elif event.get("event") == "bot" and segments:
            segments[-1][1].append(event)
    return segments


def reply_signature(messages: list[dict[str, Any]], stored: bool) -> list[tuple[str, str]]:
    """Texts and custom payloads, comparable between what a channel sent and what was stored."""
    signature = []
    for message in messages:
        custom = (message.get("data") or {}).get("custom") if stored else message.get("custom")
        if message.get("text"):
            signature.append(("text", message["text"]))
        if custom:
            signature.append(("custom", json.dumps(custom, sort_keys=True)))
    return signature


def audit_conversation(conversation: Conversation, events: list[dict[str, Any]]) -> list[str]:
    """Everything the client saw is stored once, each user message followed by its own replies."""
    name = f"{conversation.sender_id} ({conversation.channel})"
    problems = []
    stored: dict[int, list[dict[str, Any]]] = {}
    order = []
    for user, bots in split_turns(events):
        index = (user.get("metadata") or {}).get("loadtest_turn")
        if not isinstance(index, int):
            problems.append(f"{name}: stored user message not sent by us: {user.get('text')!r}")
            continue
        if index in stored:
            problems.append(f"{name}: turn {index} stored twice")
            continue
        stored[index] = bots
        order.append(index)
    per_turn = conversation.channel == "rest"  # REST says where a turn's replies end
    for turn in conversation.turns:
        if turn.error:
            continue  # the client cannot know whether a failed turn reached Rasa
        if turn.index not in stored:
            problems.append(f"{name}: turn {turn.index} lost ({turn.text!r} not stored)")
            continue
        if not stored[turn.index]:
            problems.append(f"{name}: turn {turn.index}: no bot reply stored after it")
        if not per_turn:
            continue
        expected = reply_signature(turn.replies, stored=False)
        found = reply_signature(stored[turn.index], stored=True)
        if found != expected:
            problems.append(
                f"{name}: turn {turn.index}: stored replies after it differ from those sent "
                f"(sent {len(expected)}, stored {len(found)}: lost, duplicated or interleaved)"
            )
    if not per_turn and not any(t.error for t in conversation.turns):
        expected = [s for t in conversation.turns for s in reply_signature(t.replies, False)]
        found = [s for i in order for s in reply_signature(stored[i], True)]
        if found != expected:
            problems.append(
                f"{name}: the replies stored differ from the {len(expected)} received "
                f"({len(found)} stored: lost or duplicated)"
            )
    if conversation.ordered and order != sorted(order):
        problems.append(f"{name}: user messages stored out of order: {order}")
    return problems


def audit(db_url: str, conversations: list[Conversation]) -> list[str]:
    events = read_events(db_url, [c.sender_id for c in conversations])
    problems = []
    for conversation in conversations:
        problems += audit_conversation(conversation, events.get(conversation.sender_id, []))
    return problems


# --- the local topology -------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def run_preflight(env: dict[str, str], timeout: float) -> None:
    """deploy/preflight.py in Rasa's environment: RuntimeError with its message on failure."""
    result = subprocess.run(
        [str(RASA_PYTHON), str(PREFLIGHT), "--timeout", str(timeout)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or result.stdout.strip())


def in_parallel(tasks: list[Callable[[], None]]) -> None:
    """Start servers side by side (each mostly waits for its model to load); raise the first
    failure after all have finished."""
    errors: list[BaseException] = []

    def run(task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as error:  # re-raised below in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@dataclass
class LocalTopology:
    """Rasa's scaling model without containers: n Rasa instances, m action servers, one store.

    store="postgres": PostgreSQL tracker store and Redis lock store (deploy/endpoints.yml),
    from scripts/local_services.sh; store="sqlite": the embedded default (bot/endpoints.yml),
    one SQLite file shared by the instances and each instance's own in-memory lock.
    """

    settings: Settings
    model: Path
    work_dir: Path
    store: Store = "postgres"
    rasa_instances: int = 2
    action_servers: int = 1
    # postgres only: "atomic" is deploy/endpoints.yml; "redis" is Rasa's own RedisLockStore and
    # "none" each instance's in-memory lock, to show what the atomic lock store prevents.
    lock_store: LockStoreKind = "atomic"
    services: dict[str, str] = field(default_factory=dict)  # given, or started by start()
    preflight_timeout: float = 15.0
    actions: list[Stack] = field(default_factory=list)
    rasa: list[Stack] = field(default_factory=list)
    owns_services: bool = False

    @property
    def rasa_urls(self) -> list[str]:
        return [stack.rasa_url for stack in self.rasa]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    @property
    def tracker_db_url(self) -> str:
        if self.store == "sqlite":
            return f"sqlite:///{self.settings.tracker_path}"
        s = self.services
        return (
            f"postgresql://{s['POSTGRES_USER']}:{s['POSTGRES_PASSWORD']}@{s['POSTGRES_HOST']}:"
            f"{s['POSTGRES_PORT']}/{s['POSTGRES_DB']}"
        )

    def start_services(self) -> None:
        if self.store != "postgres" or self.services:
            return
        self.owns_services = True
        subprocess.run([str(SERVICES_SCRIPT), "start", str(self.work_dir / "services")], check=True)
        self.services = read_env_file(self.work_dir / "services" / "services.env")

    def endpoints(self) -> Path:
        if self.store == "sqlite":
            return BOT_DIR / "endpoints.yml"
        if self.lock_store == "atomic":
            return DEPLOY_ENDPOINTS
        config = yaml.safe_load(DEPLOY_ENDPOINTS.read_text())
        if self.lock_store == "redis":
            config["lock_store"]["type"] = "redis"
        else:
            config.pop("lock_store")
        path = self.work_dir / f"endpoints-lock-{self.lock_store}.yml"
        path.write_text(yaml.safe_dump(config))
        return path

    def start(self, timeout: float = 240) -> None:
        """Services, preflight, action servers, then the Rasa instances (each set in parallel)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.start_services()
        # deploy/ on Rasa's path for the lock store class; bot/ for our connectors and policies.
        env = {
            "OPASTIN_WEB_PORT": str(self.settings.web_port),
            "PYTHONPATH": f"{BOT_DIR}{os.pathsep}{DEPLOY_ENDPOINTS.parent}",
        }
        if self.store == "postgres":
            run_preflight(self.services, timeout=self.preflight_timeout)
            env.update(self.services)
        for i in range(self.action_servers):
            settings = self.settings.model_copy(update={"actions_port": free_port()})
            self.actions.append(Stack(settings, self.model, self.work_dir / f"actions-{i}", env))
        in_parallel([lambda s=s: s.start_actions(timeout) for s in self.actions])
        for i in range(self.rasa_instances):
            action_server = self.actions[i % len(self.actions)].settings
            settings = action_server.model_copy(update={"rasa_port": free_port()})
            rasa_env = {
                **env,
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
            }
            stack = Stack(settings, self.model, self.work_dir / f"rasa-{i}", rasa_env)
            stack.endpoints = self.endpoints()
            self.rasa.append(stack)
        in_parallel([lambda s=s: s.start_rasa(timeout) for s in self.rasa])

    def restart_rasa(self, instance: int, timeout: float = 240) -> None:
        self.rasa[instance].stop()
        self.rasa[instance].start_rasa(timeout)

    def stop(self) -> None:
        for stack in [*self.rasa, *self.actions]:
            stack.stop()
        if self.owns_services:
            subprocess.run([str(SERVICES_SCRIPT), "stop", str(self.work_dir / "services")])
            self.services = {}
            self.owns_services = False


@contextlib.contextmanager
def local_topology(**kwargs: Any) -> Iterator[LocalTopology]:
    topology = LocalTopology(**kwargs)
    try:
        topology.start()
        yield topology
    finally:
        topology.stop()


def load_test(
    urls: list[str], db_url: str | None, plan: LoadPlan, origin: str, label: str
) -> LoadReport:
    conversations, seconds = asyncio.run(run_load(urls, plan, origin))
    problems = audit(db_url, conversations) if db_url else None
    return LoadReport(label, conversations, seconds, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.loadtest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("-n", "--conversations", type=int, default=20)
    parser.add_argument("-m", "--turns", type=int, default=5)
    parser.add_argument("--socketio", type=int, default=0, help="conversations over socket.io")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds; no new turn after")
    parser.add_argument("--think", type=float, default=0, help="seconds between a user's turns")
    parser.add_argument("--burst", type=int, default=1, help="messages sent at once per turn")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--rasa", type=int, default=2, help="Rasa instances to start (1..4)")
    parser.add_argument("--actions", type=int, default=1, help="action servers to start (1..4)")
    parser.add_argument(
        "--lock-store",
        choices=["atomic", "redis", "none"],
        default="atomic",
        help="postgres: ours (default), Rasa's own RedisLockStore, or none (in-memory each)",
    )
    parser.add_argument("--model", type=Path, help="trained model (default: train if needed)")
    parser.add_argument("--url", action="append", help="running Rasa instance(s), loopback")
    parser.add_argument("--tracker-db", help="SQLAlchemy URL of their tracker store, to audit")
    parser.add_argument("--origin", default="http://127.0.0.1:8000", help="socket.io Origin")
    parser.add_argument("--json", type=Path, help="append the result as a JSON line here")
    args = parser.parse_args(argv)
    plan = LoadPlan(
        args.conversations, args.turns, args.socketio, args.time_limit, args.think, args.burst
    )
    plan.validate()
    if args.url:
        label = f"{len(args.url)} running instance(s)"
        report = load_test(args.url, args.tracker_db, plan, args.origin, label)
    else:
        if not (1 <= args.rasa <= 4 and 1 <= args.actions <= 4):
            raise SystemExit("error: --rasa and --actions must be 1..4 on this machine")
        settings = Settings.from_env().model_copy(update={"web_port": free_port()})
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        ensure_index(settings)
        model = args.model.resolve() if args.model else ensure_model(settings)
        store = "PostgreSQL/Redis" if args.store == "postgres" else "SQLite"
        if args.store == "postgres" and args.lock_store != "atomic":
            store = f"PostgreSQL, lock store: {args.lock_store}"
        label = f"{args.rasa} Rasa instance(s), {args.actions} action server(s), {store}"
        with tempfile.TemporaryDirectory(prefix="opastin-load-") as tmp:
            work = Path(tmp)
            settings = settings.model_copy(update={"tracker_db": work / "tracker.db"})
            log(f"starting {label} (logs in {work} while it runs)")
            with local_topology(
                settings=settings,
                model=model,
                work_dir=work,
                store=args.store,
                rasa_instances=args.rasa,
                action_servers=args.actions,
                lock_store=args.lock_store,
            ) as topology:
                log(f"ready; running {plan.conversations} conversations x {plan.turns} turns")
                report = load_test(
                    topology.rasa_urls, topology.tracker_db_url, plan, topology.origin, label
                )
    load = os.getloadavg()
    print(report.format(), flush=True)
    print(
        "machine load average (1/5/15 min) after the run: "
        + " ".join(f"{value:.1f}" for value in load)
    )
    if args.json:
        with args.json.open("a") as out:
            out.write(
                json.dumps(
                    {
                        "label": report.label,
                        "rows": report.rows(),
                        "problems": report.problems,
                        "ok": report.ok,
                        "load_average": load,
                    }
                )
                + "\n"
            )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
