"""The summary page's numbers: conversations per day, fallback rate, unanswered questions,
answers per organisation and the language mix, over the conversations a filter selects."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from console.conversations import Summary

MAX_DAYS = 92  # a chart of more days gets unreadable; older days are summed in the totals


def _day(timestamp: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(timestamp, tz).date()


def _days(first: date, last: date) -> list[date]:
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def summary_stats(
    summaries: list[Summary], tz: ZoneInfo, organisation_names: dict[str, str]
) -> dict[str, Any]:
    """Totals, per-day series (gaps filled with zeros) and top lists for the charts."""
    conversations_per_day: Counter[date] = Counter()
    messages_per_day: Counter[date] = Counter()
    unanswered: Counter[str] = Counter()
    shown: dict[str, str] = {}
    reasons: dict[str, Counter[str]] = {}
    answers: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    fallback_per_day: Counter[date] = Counter()
    fallback_messages = messages = negative = 0

    for s in summaries:
        conversations_per_day[_day(s.started, tz)] += 1
        for stamp, fallback in s.message_log:
            messages_per_day[_day(stamp, tz)] += 1
            fallback_per_day[_day(stamp, tz)] += fallback
        messages += s.messages
        fallback_messages += s.fallback_messages
        negative += s.negative_feedback
        answers.update(s.answers)
        languages.update(s.languages or {"unknown"})
        for text, reason in s.unanswered:
            key = " ".join(text.casefold().split())
            unanswered[key] += 1
            shown.setdefault(key, text)
            reasons.setdefault(key, Counter())[reason] += 1
    seen = set(conversations_per_day) | set(messages_per_day)
    days = _days(min(seen), max(seen)) if seen else []
    return {
        "totals": {
            "conversations": len(summaries),
            "messages": messages,
            "fallback_messages": fallback_messages,
            "fallback_rate": round(fallback_messages / messages, 4) if messages else 0.0,
            "negative_feedback": negative,
        },
        "per_day": [
            {
                "day": d.isoformat(),
                "conversations": conversations_per_day[d],
                "messages": messages_per_day[d],
                "fallback_rate": round(fallback_per_day[d] / messages_per_day[d], 4)
                if messages_per_day[d]
                else None,
            }
            for d in days
        ],
        "unanswered": [
            {"text": shown[k], "count": n, "reason": reasons[k].most_common(1)[0][0]}
            for k, n in sorted(unanswered.items(), key=lambda i: (-i[1], i[0]))[:10]
        ],
        "organisations": [
            {"id": org, "name": organisation_names.get(org, org), "count": n}
            for org, n in sorted(answers.items(), key=lambda i: (-i[1], i[0]))
        ],
        "languages": [
            {"language": lang, "count": n}
            for lang, n in sorted(languages.items(), key=lambda i: (-i[1], i[0]))
        ],
    }
