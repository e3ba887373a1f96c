"""What in the corpus is due for re-checking, and who checked what.

Why: facts about offices, forms and rules change every year (the 2025 employment-services
reform moved a whole organisation). Every source carries the date it was checked and, from
2026-11 on, who checked it; `make audit` lists sources older than the re-check interval and the
facts that are still marked unverified, so a newcomer-service team knows what to look at next.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from knowledge.schema import Corpus, Source

RECHECK_MONTHS = 12


@dataclass(frozen=True)
class DueSource:
    where: str  # organisation or service id
    url: str
    checked: dt.date
    checked_by: str | None


@dataclass(frozen=True)
class AuditReport:
    due: list[DueSource]
    unverified: list[str]  # "service id: note" lines
    checkers: Counter[str]
    sources: int


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (clamped to the month's last day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a day 1")


def audit(corpus: Corpus, today: dt.date, months: int = RECHECK_MONTHS) -> AuditReport:
    cutoff = months_before(today, months)
    due: list[DueSource] = []
    checkers: Counter[str] = Counter()
    unverified: list[str] = []
    count = 0

    def look(where: str, sources: list[Source]) -> None:
        nonlocal count
        for source in sources:
            count += 1
            checkers[source.checked_by or "(not recorded)"] += 1
            if source.checked < cutoff:
                due.append(DueSource(where, str(source.url), source.checked, source.checked_by))

    for org in corpus.organisations.values():
        look(org.id, org.sources)
        if org.at_ihh == "unverified":
            unverified.append(f"{org.id}: presence at International House Helsinki")
        for service in org.services:
            look(service.id, service.sources)
            if service.verify:
                unverified.append(f"{service.id}: {service.verify['en']}")
            if service.at_ihh == "unverified":
                unverified.append(f"{service.id}: served at International House Helsinki?")
    due.sort(key=lambda d: (d.checked, d.where))
    return AuditReport(due=due, unverified=unverified, checkers=checkers, sources=count)


def format_report(report: AuditReport, today: dt.date, months: int = RECHECK_MONTHS) -> str:
    lines = [
        f"{report.sources} sources; re-check interval {months} months "
        f"(due: checked before {months_before(today, months).isoformat()})",
        f"due for re-checking: {len(report.due)}",
    ]
    lines += [
        f"  {d.checked.isoformat()}  {d.where:45} {d.url}  (by {d.checked_by or 'not recorded'})"
        for d in report.due
    ]
    lines.append(f"unverified facts (not stated as facts in answers): {len(report.unverified)}")
    lines += [f"  {line}" for line in report.unverified]
    lines.append(
        "checked by: " + ", ".join(f"{who} {n}" for who, n in report.checkers.most_common())
    )
    return "\n".join(lines)
