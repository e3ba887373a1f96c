"""Read and write the SQL tracker store's events with SQLAlchemy Core instead of its ORM.

Rasa 3.6's `SQLTrackerStore` handles each turn's events through SQLAlchemy's ORM: `save`
builds an ORM query to COUNT the stored events of the latest session, then adds one `SQLEvent`
object per new event (about nine per turn) and flushes them through the unit of work, one
INSERT each; `_retrieve` loads every event of the session as an ORM object (identity map,
instance state) only to read its `data` column. In the turn profile (docs/performance.md,
"Fourth pass") that was the Rasa process's largest remaining cost after the NLU.

Here the same SQL runs as prepared Core statements (built once per table, compiled once by
SQLAlchemy's statement cache): the same COUNT of the latest session's events, the new events'
rows with the same column values inserted in one `executemany` (SQLite; its driver runs
executemany as a loop, so ids keep the events' order) or one INSERT per event in order (other
dialects, as the ORM does), and the retrieve reads only `data`, ordered by id. Same session
scope (Rasa's `session_scope`, with its PostgreSQL schema check), same transaction, same rows
and same trackers (tests/rasa_venv/test_sql_store_core.py compares both ways on one database).
A store with an event broker (which Rasa's save also streams to) or a subclass that changes
how events are queried or counted goes to Rasa's own method.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from policies import tracker_cache
from policies.tracker_cache import cache_of

logger = logging.getLogger(__name__)

# Dialects whose driver runs executemany as one INSERT after another, in the rows' order, so
# the ids keep the events' order (the retrieve orders by id). Others get one INSERT per event.
EXECUTEMANY_DIALECTS = frozenset({"sqlite"})

Save = Callable[[Any, Any], Any]
Retrieve = Callable[[Any, str, bool], Any]


@dataclass(frozen=True)
class EventStatements:
    """Rasa's event queries for one events table, as Core statements with a `sender_id`."""

    count_latest: Any  # events since the latest session start (all if none)
    data_latest: Any  # their `data`, ordered by id
    data_all: Any  # `data` of every event of the sender, ordered by id
    insert: Any

    @classmethod
    @functools.lru_cache(maxsize=8)
    def of(cls, table: sa.Table) -> EventStatements:
        """The statements of `SQLTrackerStore._event_query`, written once for `table`."""
        from rasa.shared.core.events import SessionStarted

        sender = table.c.sender_id == sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(sender, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        latest = sa.and_(
            sender, sa.or_(table.c.timestamp >= session_start, session_start.is_(None))
        )
        return cls(
            count_latest=sa.select(sa.func.count()).select_from(table).where(latest),
            data_latest=sa.select(table.c.data).where(latest).order_by(table.c.id),
            data_all=sa.select(table.c.data).where(sender).order_by(table.c.id),
            insert=table.insert(),
        )


def event_row(sender_id: str, event: Any) -> dict[str, Any]:
    """The row Rasa's save writes for `event` (same columns, same JSON)."""
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _rasa_queries(store: Any) -> bool:
    """Whether the store queries and counts events exactly as Rasa's SQLTrackerStore does."""
    from rasa.core.tracker_store import SQLTrackerStore

    kind = type(store)
    return (
        kind._event_query is SQLTrackerStore._event_query
        and kind._additional_events is SQLTrackerStore._additional_events
        and store.SQLEvent is SQLTrackerStore.SQLEvent
    )


def core_save(original: Save) -> Save:
    """`original` (SQLTrackerStore.save) with the COUNT and INSERTs as Core statements."""

    async def save(self: Any, tracker: Any) -> None:
        if self.event_broker is not None or not _rasa_queries(self):
            return await original(self, tracker)
        statements = EventStatements.of(self.SQLEvent.__table__)
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            stored = session.execute(statements.count_latest, {"sender_id": sender_id}).scalar()
            new_events = itertools.islice(tracker.events, stored, len(tracker.events))
            rows = [event_row(sender_id, event) for event in new_events]
            if rows and session.get_bind().dialect.name in EXECUTEMANY_DIALECTS:
                session.execute(statements.insert, rows)
            else:
                for row in rows:
                    session.execute(statements.insert, row)
            session.commit()
        logger.debug(f"Tracker with sender_id '{sender_id}' stored to database")

    save.__wrapped__ = original  # type: ignore[attr-defined]
    return save


def core_retrieve(original: Retrieve) -> Retrieve:
    """`original` (SQLTrackerStore._retrieve) reading only the events' `data` column."""

    async def _retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        if not _rasa_queries(self):
            return await original(self, sender_id, fetch_events_from_all_sessions)
        from rasa.shared.core.trackers import DialogueStateTracker

        statements = EventStatements.of(self.SQLEvent.__table__)
        query = statements.data_all if fetch_events_from_all_sessions else statements.data_latest
        with self.session_scope() as session:
            stored = session.execute(query, {"sender_id": sender_id}).scalars().all()
            cache = None if fetch_events_from_all_sessions else cache_of(self, tracker_cache.SIZE)
            if cache is not None:
                if not stored:
                    cache.forget(sender_id)
                    return None
                tracker = cache.tracker(sender_id, list(stored), self.domain)
                if tracker is not None:
                    return tracker
            events = [json.loads(data) for data in stored]
            if self.domain and len(events) > 0:
                logger.debug(f"Recreating tracker from sender id '{sender_id}'")
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            logger.debug(
                f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. "
                f"Returning `None` instead."
            )
            return None

    _retrieve.__wrapped__ = original  # type: ignore[attr-defined]
    return _retrieve


def install() -> bool:
    """Replace SQLTrackerStore.save and ._retrieve once per process; False if already done."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa_patches import replace_once

    saved = replace_once(SQLTrackerStore, "save", core_save)
    retrieved = replace_once(SQLTrackerStore, "_retrieve", core_retrieve)
    return saved or retrieved
