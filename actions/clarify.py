"""Clarify only when it changes the answer.

The corpus says which services are for which residence status and municipality. When the
services that match a question almost equally well differ exactly in that (EU registration
vs Nordic registration vs a residence permit; Espoo's vs Vantaa's employment services) and
the dialogue does not know the user's status or city yet, asking is worth a turn.
Otherwise the bot answers straight away.
"""

from __future__ import annotations

from embeddings.search import EVERYWHERE, STATUSES, Filters, SearchResult
from knowledge.vocabulary import vocabulary

# Services scoring within this margin of the best one count as "almost equally good".
CLOSE_MARGIN = 0.03
MUNICIPALITIES = frozenset(vocabulary().municipalities)


def close_services(result: SearchResult) -> list:
    if not result.services:
        return []
    best = result.services[0].score
    return [hit for hit in result.services if best - hit.score <= CLOSE_MARGIN]


def statuses_of(service) -> frozenset[str]:
    return frozenset(STATUSES & set(service.audience))


def places_of(service) -> frozenset[str]:
    if EVERYWHERE in service.municipalities:
        return frozenset()
    return frozenset(MUNICIPALITIES & set(service.municipalities))


def missing_detail(result: SearchResult, filters: Filters) -> str | None:
    """The slot to ask for ("residence_status" or "municipality"), or None to answer now.

    Only when the best service is itself for some statuses (or cities) and an almost equally
    good one is for others: if the best answer holds for everyone, it is simply given.
    """
    if not result.answered:
        return None
    best, *others = close_services(result)
    if filters.status is None and _differs(statuses_of, best, others):
        return "residence_status"
    if filters.municipality is None and _differs(places_of, best, others):
        return "municipality"
    return None


def _differs(restriction, best, others) -> bool:
    """The best service is restricted, and a close one is for a disjoint group.

    Overlapping groups ({eu_eea, non_eu} vs {non_eu}) do not make the answer depend on the
    status; disjoint ones ({eu_eea} vs {nordic}; Espoo vs Vantaa) do.
    """
    mine = restriction(best.service)
    return bool(mine) and any(
        (theirs := restriction(other.service)) and not (theirs & mine) for other in others
    )
