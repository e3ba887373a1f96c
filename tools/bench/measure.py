"""What the benchmark and the memory run share: driving turns, process CPU and RSS, spreads.

The turns go through the load test's REST client (tools/loadtest/clients.py), so the numbers
are those of the same requests the load test and its store audit check.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from opastin.config import Settings
from opastin.nlu_text import nlu_examples
from opastin.stack import ensure_index, ensure_model
from tools.loadtest.clients import rest_conversation, rest_turn
from tools.loadtest.results import Conversation, Turn
from tools.loadtest.topology import LocalTopology, Store, local_topology
from tools.servers import free_port, rss_mb

TURNS_PER_CONVERSATION = 10


@dataclass(frozen=True)
class Spread:
    """min / median / max of repeated measurements (noisy machine: the brief asks for all three)."""

    low: float
    median: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("a spread of no measurements")
        return cls(min(values), statistics.median(values), max(values))

    def format(self, digits: int = 0) -> str:
        if self.low == self.high:
            return f"{self.median:.{digits}f}"
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}-{self.high:.{digits}f})"


def nlu_messages(nlu_dir: Path, languages: Sequence[str], per_language: int) -> list[str]:
    """Up to `per_language` examples of each language's NLU file (all intents, in file order),
    interleaved language by language, so any run of 13 turns holds 13 languages."""
    columns = []
    for language in languages:
        examples = nlu_examples(nlu_dir / f"{language}.yml")
        if not examples:
            raise ValueError(f"{nlu_dir / language}.yml: no NLU examples")
        columns.append(examples[:per_language])
    longest = max(len(column) for column in columns)
    return [column[i % len(column)] for i in range(longest) for column in columns]


def cycled(texts: Sequence[str], count: int, start: int = 0) -> list[str]:
    return [texts[(start + i) % len(texts)] for i in range(count)]


class ProcessMeter:
    """CPU seconds (user + system, children included) and RSS of the server processes."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}

    def cpu_seconds(self) -> dict[str, float]:
        totals = {}
        for name, process in self.processes.items():
            total = sum(process.cpu_times()[:2])
            for child in process.children(recursive=True):
                total += sum(child.cpu_times()[:2])
            totals[name] = total
        return totals

    def rss_mb(self) -> dict[str, float]:
        return {name: rss_mb(process.pid) for name, process in self.processes.items()}


def cpu_ms_per_turn(
    before: dict[str, float], after: dict[str, float], turns: int
) -> dict[str, float]:
    if turns <= 0:
        raise ValueError("CPU per turn of no turns")
    return {name: (after[name] - before[name]) * 1000 / turns for name in before}


@contextlib.contextmanager
def measured_servers(
    store: Store, rasa_instances: int = 1, action_servers: int = 1
) -> Iterator[LocalTopology]:
    """Index and model as `make run` prepares them, then the servers on free ports with a
    throwaway tracker store (the load test's topology: rate limits off, every user comes
    from 127.0.0.1); always stopped."""
    settings = Settings.from_env().model_copy(update={"web_port": free_port()})
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_index(settings)
    model = ensure_model(settings)
    with tempfile.TemporaryDirectory(prefix="opastin-bench-") as tmp:
        work = Path(tmp)
        with local_topology(
            settings=settings.model_copy(update={"tracker_db": work / "tracker.db"}),
            model=model,
            work_dir=work,
            store=store,
            rasa_instances=rasa_instances,
            action_servers=action_servers,
        ) as topology:
            yield topology


def server_pids(topology: LocalTopology) -> dict[str, int]:
    """The first action server's and the first Rasa instance's process ids, by name."""
    return {
        "actions": topology.actions[0].processes[0].popen.pid,
        "rasa": topology.rasa[0].processes[0].popen.pid,
    }


def session() -> aiohttp.ClientSession:
    # A connection per request, as the load test and nginx to its upstreams.
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=300, force_close=True))


def senders(prefix: str) -> Iterator[str]:
    run = uuid.uuid4().hex[:8]
    number = 0
    while True:
        yield f"{prefix}-{run}-{number:05d}"
        number += 1


async def sequential(
    http: aiohttp.ClientSession, url: str, texts: Sequence[str], prefix: str
) -> list[Conversation]:
    """One user, one turn after the other, a new conversation every ten turns."""
    conversations: list[Conversation] = []
    names = senders(prefix)
    for index, text in enumerate(texts):
        if index % TURNS_PER_CONVERSATION == 0:
            conversations.append(Conversation(next(names), "rest"))
        conversation = conversations[-1]
        turn = Turn(len(conversation.turns), text, 0)
        conversation.turns.append(turn)
        await rest_turn(http, [url], 0, conversation.sender_id, turn)
    return conversations


async def concurrent_users(
    http: aiohttp.ClientSession,
    urls: list[str],
    users: int,
    texts: Sequence[str],
    turns: int,
    prefix: str,
    think: float = 0.0,
    time_limit: float = 600.0,
) -> tuple[list[Conversation], float]:
    """`users` conversations of `turns` turns at once; with think time, the users arrive spread
    over one think time (as people do), not all in the same millisecond. Returns the
    conversations and the seconds from the first turn sent to the last reply."""
    names = senders(prefix)
    conversations = [Conversation(next(names), "rest") for _ in range(users)]
    started = time.monotonic()
    deadline = started + time_limit

    async def user(number: int, conversation: Conversation) -> None:
        if think:
            await asyncio.sleep(think * number / users)
        lines = cycled(texts, turns, start=number * 7)
        await rest_conversation(http, urls, conversation, lines, number, deadline, think)

    await asyncio.gather(*(user(n, c) for n, c in enumerate(conversations)))
    return conversations, time.monotonic() - started


def answered_ms(conversations: Sequence[Conversation]) -> list[float]:
    return [
        t.latency * 1000
        for c in conversations
        for t in c.turns
        if t.error is None and t.latency is not None
    ]


def turn_count(conversations: Sequence[Conversation]) -> int:
    return sum(len(c.turns) for c in conversations)
