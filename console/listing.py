"""The conversation list's filters: what the search box and menus ask, applied to summaries.

Shared by the list page, its summary chart and the command line (`python -m console list`); the
inbox reuses the day helpers for its date range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from console.conversations import Summary


@dataclass(frozen=True)
class Filters:
    """The list's search box and filters; empty fields do not filter."""

    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    channel: str = ""
    language: str = ""
    intent: str = ""
    fallback: bool = False
    negative: bool = False
    source: str = "all"  # all | users | tests | guests (console.guests)

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        """From URL query parameters; raises ValueError with a message on bad input."""

        source = query.get("source") or "all"
        if source not in SOURCES:
            raise ValueError("source: expected all, users, tests or guests")
        return cls(
            q=(query.get("q") or "").strip()[:200],
            date_from=query_day(query, "date_from"),
            date_to=query_day(query, "date_to"),
            channel=(query.get("channel") or "").strip(),
            language=(query.get("language") or "").strip(),
            intent=(query.get("intent") or "").strip(),
            fallback=query.get("fallback") in {"1", "true", "on"},
            negative=query.get("negative") in {"1", "true", "on"},
            source=source,
        )

    def matches(self, s: Summary, tz: ZoneInfo) -> bool:
        """Whether a conversation passes every filter that is set."""
        if self.source != "all" and self.source != source_of(s.test, s.guest):
            return False
        if self.date_from and s.last < day_start(self.date_from, tz):
            return False
        if self.date_to and s.started >= day_start(self.date_to + timedelta(days=1), tz):
            return False
        if self.channel and self.channel not in s.channels:
            return False
        if self.language and self.language not in s.languages:
            return False
        if self.intent and self.intent not in s.intents:
            return False
        if self.fallback and not s.fallback:
            return False
        if self.negative and not s.negative_feedback:
            return False
        return not self.q or self.q.casefold() in s.search_text


SOURCES = ("all", "users", "tests", "guests")


def source_of(test: bool, guest: bool) -> str:
    """Whose conversation: staff's Try it (tests), a guest tester link's, or a user's."""
    return "tests" if test else "guests" if guest else "users"


def query_day(query: Any, name: str) -> date | None:
    """A day from a URL query parameter (empty = none); ValueError with a message otherwise."""
    value = (query.get(name) or "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise ValueError(f"{name}: expected a date like 2026-01-31") from None


def day_start(day: date, tz: ZoneInfo) -> float:
    """The first second of a day in the console's time zone, as a Unix time."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def select(summaries: dict[str, Summary], filters: Filters, tz: ZoneInfo) -> list[Summary]:
    """Matching conversations, newest (latest activity) first."""
    found = [s for s in summaries.values() if filters.matches(s, tz)]
    return sorted(found, key=lambda s: (s.last, s.conversation), reverse=True)
