"""Server memory over many turns in the 13 answered languages (issue 15 item 3).

    python -m tools.bench.memory [--turns 10000] [--every 1000] [--users 8]

Starts one action server and one Rasa server with the SQLite tracker store (as `make run`,
rate limits off), prints each process's RSS (children included) after start-up, then sends
`--turns` REST turns from `--users` concurrent users, ten turns per conversation, the texts
being the NLU examples of every answered language interleaved (bot/data/nlu/<lang>.yml), and
prints the RSS again every `--every` turns. Targets: action server <= 450 MB and Rasa <= 600 MB
after 10,000 turns, flat after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from knowledge.vocabulary import vocabulary
from opastin.stack import BOT_DIR, log
from tools.bench.benchmark import load_average
from tools.bench.measure import (
    TURNS_PER_CONVERSATION,
    ProcessMeter,
    concurrent_users,
    measured_servers,
    nlu_messages,
    server_pids,
    session,
    turn_count,
)
from tools.loadtest.results import Conversation

NLU_DIR = BOT_DIR / "data" / "nlu"
EXAMPLES_PER_LANGUAGE = 200
# Issue 15 item 3: RSS after 10,000 turns, and flat after warm-up (the first 1,000 turns).
TARGETS_MB = {"actions": 450, "rasa": 600}
WARM_UP_TURNS = 1_000


def checkpoints(turns: int, every: int) -> list[int]:
    """Turn counts after which the RSS is printed: every `every` turns, and the last one."""
    if turns < 1 or every < 1:
        raise ValueError("turns and every must be positive")
    marks = list(range(every, turns + 1, every))
    return marks if marks and marks[-1] == turns else [*marks, turns]


def verdict(readings: list[tuple[int, dict[str, float]]]) -> list[str]:
    """Per process: the last RSS against its target, and the growth after warm-up (from the
    first reading at or after WARM_UP_TURNS turns to the last one)."""
    if not readings:
        raise ValueError("no RSS readings")
    turns, last = readings[-1]
    warm = next(((t, rss) for t, rss in readings if t >= WARM_UP_TURNS), None)
    lines = []
    for name, target in TARGETS_MB.items():
        met = "met" if last[name] <= target else "NOT met"
        line = f"{name}: {last[name]:.0f} MB after {turns} turns (target <= {target}: {met})"
        if warm is not None and warm[0] < turns:
            line += f"; {last[name] - warm[1][name]:+.0f} MB from {warm[0]} to {turns} turns"
        lines.append(line)
    return lines


async def drive(
    urls: list[str], meter: ProcessMeter, texts: list[str], marks: list[int], users: int
) -> list[tuple[int, dict[str, float]]]:
    """Send turns in batches up to each checkpoint; print RSS and errors at each, and return
    the RSS readings."""
    readings = []
    sent = errors = 0
    async with session() as http:
        for mark in marks:
            while sent < mark:
                batch = min(mark - sent, users * TURNS_PER_CONVERSATION)
                per_user = -(-batch // users)  # ceiling: every user a whole conversation
                busy = min(users, -(-batch // per_user))
                shifted = texts[sent % len(texts) :] + texts[: sent % len(texts)]
                conversations: list[Conversation]
                conversations, _ = await concurrent_users(
                    http, urls, busy, shifted, per_user, "memory"
                )
                sent += turn_count(conversations)
                errors += sum(1 for c in conversations for t in c.turns if t.error)
            rss = meter.rss_mb()
            readings.append((sent, rss))
            print(
                f"| {sent} | {rss['actions']:.0f} | {rss['rasa']:.0f} | {errors} "
                f"| {load_average()} |",
                flush=True,
            )
    return readings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.memory", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--users", type=int, default=8)
    args = parser.parse_args(argv)
    if not (1 <= args.users <= 64 and 1 <= args.turns <= 50_000):
        parser.error("--users 1..64, --turns 1..50000")
    marks = checkpoints(args.turns, args.every)
    languages = vocabulary().languages.answered
    texts = nlu_messages(NLU_DIR, languages, EXAMPLES_PER_LANGUAGE)
    with measured_servers("sqlite") as topology:
        meter = ProcessMeter(server_pids(topology))
        log(f"{len(texts)} texts in {len(languages)} languages; {args.users} users")
        print("| turns | actions RSS MB | Rasa RSS MB | errors | load 1/5/15 |")
        print("|---|---|---|---|---|")
        rss = meter.rss_mb()
        print(f"| 0 (started) | {rss['actions']:.0f} | {rss['rasa']:.0f} | 0 | {load_average()} |")
        readings = asyncio.run(drive(topology.rasa_urls, meter, texts, marks, args.users))
    print()
    print("\n".join(verdict([(0, rss), *readings])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
