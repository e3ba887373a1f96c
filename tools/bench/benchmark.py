"""Turn cost side by side, in one run on the same servers (issue 15 item 4).

    python -m tools.bench.benchmark [--repeat 3]              # one Rasa, one action server, SQLite
    python -m tools.bench.benchmark --topology [--repeat 3]   # 2 Rasa, PostgreSQL/Redis, 100 users

Default: starts one action server and one Rasa server with the SQLite tracker store, as `make
run` does (the connectors' per-IP and per-conversation rate limits off: all users come from
127.0.0.1), then measures, each `--repeat` times:
- one user, sequential: a plain turn ("hello") and a search-backed question, p50/p95, and the
  CPU milliseconds per turn of each server process (psutil, children included);
- saturation: 8 and 32 users without think time, answered turns per second and CPU per turn;
- 50 users with 5 s think time, arriving spread over one think time: p50/p95, errors, and the
  store audit (every message each user saw is stored once, in order: tools/loadtest/audit.py).
`--topology`: the same 100-users-with-think-time measurement on two Rasa instances sharing a
PostgreSQL tracker store and Redis lock store (tools/loadtest/topology.py). Each line prints
median (min-max) of the repetitions against the issue's target; the machine's load average is
printed before and after, since other work on this machine changes the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opastin.stack import log
from tools.bench.measure import (
    ProcessMeter,
    Spread,
    answered_ms,
    concurrent_users,
    cpu_ms_per_turn,
    cycled,
    measured_servers,
    sequential,
    server_pids,
    session,
    turn_count,
)
from tools.loadtest.audit import audit
from tools.loadtest.results import MESSAGES, Conversation
from tools.loadtest.topology import LocalTopology
from tools.stats import percentile

PLAIN = ("hello",)
# Questions the bot answers from the search index (service cards), in three languages.
SEARCH = (
    "How do I get a tax card?",
    "Where do I register my address?",
    "How can I find a job in Espoo?",
    "Miten saan verokortin?",
    "Hur registrerar jag min adress?",
    "I want to start a business in Helsinki",
)
# The targets on this machine (issue 15 item 4).
TARGETS = {
    "search p50 / plain p50": "<= 1.3",
    "saturation turns/s": ">= 28",
    "50 users p95 ms": "<= 500",
    "100 users p95 ms": "<= 800",
}


@dataclass
class Results:
    """Each measurement's values over the repetitions, in the order they were taken."""

    values: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def table(self) -> str:
        lines = ["| measurement | median (min-max) | target |", "|---|---|---|"]
        for name, values in self.values.items():
            digits = 2 if "/ plain" in name else (1 if "turns/s" in name else 0)
            spread = Spread.of(values).format(digits)
            target = next((t for key, t in TARGETS.items() if name.endswith(key)), "")
            lines.append(f"| {name} | {spread} | {target} |")
        return "\n".join(lines)


def latency_row(conversations: Sequence[Conversation]) -> tuple[float, float, int]:
    """p50 and p95 in ms of the answered turns, and the number of failed turns."""
    ms = answered_ms(conversations)
    errors = turn_count(conversations) - len(ms)
    if not ms:
        raise RuntimeError("no turn was answered; see the server logs")
    return percentile(ms, 50), percentile(ms, 95), errors


def kinds(conversations: Sequence[Conversation]) -> str:
    """What came back: reply kinds, and the failed turns by the first words of their error."""
    counted = Counter(t.kind for c in conversations for t in c.turns)
    counted.update(f"error: {t.error[:40]}" for c in conversations for t in c.turns if t.error)
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counted.items()))


async def single_instance_round(
    topology: LocalTopology, meter: ProcessMeter, results: Results, args: argparse.Namespace
) -> None:
    """One repetition of every single-instance measurement, on the running servers."""
    url = topology.rasa_urls[0]
    async with session() as http:
        p50 = {}
        for label, texts in (("plain", PLAIN), ("search", SEARCH)):
            before = meter.cpu_seconds()
            conversations = await sequential(http, url, cycled(texts, args.turns), label)
            cpu = cpu_ms_per_turn(before, meter.cpu_seconds(), turn_count(conversations))
            p50[label], p95, errors = latency_row(conversations)
            results.add(f"1 user, {label} turn p50 ms", p50[label])
            results.add(f"1 user, {label} turn p95 ms", p95)
            for process, ms in cpu.items():
                results.add(f"{label} turn CPU ms, {process}", ms)
            results.notes.append(f"{label}: {kinds(conversations)}; errors {errors}")
        results.add("search p50 / plain p50", p50["search"] / p50["plain"])
        for users in (8, 32):
            before = meter.cpu_seconds()
            conversations, seconds = await concurrent_users(
                http, [url], users, MESSAGES, max(3, args.saturation_turns // users), "sat"
            )
            cpu = cpu_ms_per_turn(before, meter.cpu_seconds(), turn_count(conversations))
            p50_ms, p95, errors = latency_row(conversations)
            results.add(
                f"{users} users, saturation turns/s", len(answered_ms(conversations)) / seconds
            )
            results.add(f"{users} users, p50 ms", p50_ms)
            for process, ms in cpu.items():
                results.add(f"{users} users, CPU ms per turn, {process}", ms)
            results.notes.append(f"{users} users: errors {errors}")
        conversations, _ = await concurrent_users(
            http, [url], args.users, MESSAGES, args.think_turns, "think", think=args.think
        )
    _p50, p95, errors = latency_row(conversations)
    results.notes.append(f"{args.users} users: {kinds(conversations)}")
    problems = audit(topology.tracker_db_url, conversations)
    results.add(f"{args.users} users p95 ms", p95)
    results.add(f"{args.users} users errors", errors)
    results.add(f"{args.users} users store audit problems", len(problems))
    results.notes.extend(problems[:5])
    results.add("actions RSS MB", meter.rss_mb()["actions"])
    results.add("rasa RSS MB", meter.rss_mb()["rasa"])


async def topology_round(
    topology: LocalTopology, results: Results, args: argparse.Namespace
) -> None:
    async with session() as http:
        conversations, _ = await concurrent_users(
            http, topology.rasa_urls, args.users, MESSAGES, args.think_turns, "topo", args.think
        )
    p50, p95, errors = latency_row(conversations)
    problems = audit(topology.tracker_db_url, conversations)
    results.notes.append(f"{args.users} users: {kinds(conversations)}")
    results.add(f"{args.users} users p50 ms", p50)
    results.add(f"{args.users} users p95 ms", p95)
    results.add(f"{args.users} users errors", errors)
    results.add(f"{args.users} users store audit problems", len(problems))
    results.notes.extend(problems[:5])


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.benchmark", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement")
    parser.add_argument("--turns", type=int, default=40, help="sequential turns per kind")
    parser.add_argument("--saturation-turns", type=int, default=320, help="turns per user count")
    parser.add_argument("--think", type=float, default=5.0, help="seconds between a user's turns")
    parser.add_argument("--think-turns", type=int, default=6, help="turns per think-time user")
    parser.add_argument("--users", type=int, help="think-time users (default 50; 100 --topology)")
    parser.add_argument("--topology", action="store_true", help="2 Rasa, PostgreSQL/Redis")
    parser.add_argument("--actions", type=int, default=1, help="--topology: action servers")
    args = parser.parse_args(argv)
    if args.users is None:
        args.users = 100 if args.topology else 50
    if not (1 <= args.repeat <= 10 and 1 <= args.users <= 300 and 1 <= args.actions <= 4):
        parser.error("--repeat 1..10, --users 1..300, --actions 1..4")
    if args.turns < 2 or args.saturation_turns < 8 or args.think_turns < 1 or args.think < 0:
        parser.error("--turns >= 2, --saturation-turns >= 8, --think-turns >= 1, --think >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    store, instances = ("postgres", 2) if args.topology else ("sqlite", 1)
    actions = args.actions if args.topology else 1
    label = f"{instances} Rasa, {actions} action server(s), {store}"
    results = Results()
    print(f"load average before (1/5/15 min): {load_average()}", flush=True)
    log(f"starting {label}")
    with measured_servers(store, instances, actions) as topology:
        round_: Callable[[], object]
        if args.topology:
            round_ = lambda: topology_round(topology, results, args)  # noqa: E731
        else:
            meter = ProcessMeter(server_pids(topology))
            results.add("actions RSS MB at start", meter.rss_mb()["actions"])
            results.add("rasa RSS MB at start", meter.rss_mb()["rasa"])
            round_ = lambda: single_instance_round(topology, meter, results, args)  # noqa: E731
        asyncio.run(warm_up(topology.rasa_urls))
        for repetition in range(args.repeat):
            log(f"round {repetition + 1} of {args.repeat} (load {load_average()})")
            asyncio.run(round_())  # type: ignore[arg-type]
            # So far, in case a long run on a busy machine is stopped before the end.
            print(results.table(), flush=True)
    print(f"\n{label}; {args.repeat} rounds; median (min-max) of the rounds\n")
    print(results.table())
    print("\n" + "\n".join(dict.fromkeys(results.notes)))
    print(f"load average after (1/5/15 min): {load_average()}")
    return 0


async def warm_up(urls: list[str]) -> None:
    """Each instance's first turns load models lazily; they are not what is measured."""
    async with session() as http:
        for url in urls:
            await sequential(http, url, cycled((*PLAIN, *SEARCH), 14), "warmup")


if __name__ == "__main__":
    sys.exit(main())
