"""Clarify only when it changes the answer.

The corpus says which services are for which residence status and municipality. When the
services that match a question almost equally well differ exactly in that (EU registration
vs Nordic registration vs a residence permit; Espoo's vs Vantaa's employment services) and
the dialogue does not know the user's status or city yet, asking is worth a turn.
Otherwise the bot answers straight away.
"""

from __future__ import annotations

from embeddings.search import STATUSES, Filters, SearchResult

# Services scoring within this margin of the best one count as "almost equally good".
CLOSE_MARGIN = 0.03
MUNICIPALITIES = {"helsinki", "espoo", "vantaa"}


def close_services(result: SearchResult) -> list:
    if not result.services:
        return []
    best = result.services[0].score
    return [hit for hit in result.services if best - hit.score <= CLOSE_MARGIN]


def missing_detail(result: SearchResult, filters: Filters) -> str | None:
    """The slot to ask for ("residence_status" or "municipality"), or None to answer now."""
    if not result.answered:
        return None
    close = close_services(result)
    if filters.status is None:
        statuses = {frozenset(STATUSES & set(hit.service.audience)) for hit in close}
        statuses.discard(frozenset())
        if len(statuses) >= 2:
            return "residence_status"
    if filters.municipality is None:
        places = {
            frozenset(MUNICIPALITIES & set(hit.service.municipalities))
            for hit in close
            if "all" not in hit.service.municipalities
        }
        if len(places) >= 2:
            return "municipality"
    return None
