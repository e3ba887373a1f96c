"""The load test's results for people: the table on stdout, pictures in var/reports/."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.loadtest.results import Conversation, Turn
from tools.reports import charts
from tools.reports.page import ReportPage
from tools.stats import percentile


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


@dataclass
class Second:
    """The turns that finished in one second of the run."""

    second: int
    turns: int
    p95_ms: float | None


def timeline(turns: list[Turn]) -> list[Second]:
    """Answered turns per second of the run (by the time their reply came) and their p95.

    Seconds without an answered turn are included (0 turns, no p95), so a stall shows.
    """
    answered = [t for t in turns if not t.error and t.latency is not None and t.sent_at]
    if not answered:
        return []
    start = min(t.sent_at for t in answered)
    buckets: dict[int, list[float]] = {}
    for turn in answered:
        second = int(turn.sent_at + turn.latency - start)
        buckets.setdefault(second, []).append(turn.latency * 1000)
    return [
        Second(s, len(buckets.get(s, [])), percentile(buckets[s], 95) if s in buckets else None)
        for s in range(max(buckets) + 1)
    ]


def write_pictures(report: LoadReport, reports_dir: Path) -> Path:
    """Latency histogram and the turns/s + p95 timeline; the HTML page's path."""
    page = ReportPage.create("loadtest", reports_dir, f"Load test: {report.label}")
    latencies = [t.latency * 1000 for t in report.turns if not t.error and t.latency is not None]
    marks = {f"p{q}": percentile(latencies, q) for q in (50, 95, 99)} if latencies else {}
    charts.histogram(
        page.figure("latency", "Turn latency", "time to the first reply of each answered turn"),
        latencies,
        marks,
        f"Turn latency, {len(latencies)} answered turns",
        "milliseconds",
    )
    seconds = timeline(report.turns)
    charts.timeline(
        page.figure("timeline", "Throughput and p95 per second"),
        [s.second for s in seconds],
        [s.turns for s in seconds],
        [s.p95_ms for s in seconds],
        "Turns answered per second and their p95 latency",
    )
    page.text("Summary", report.format())
    return page.write()
