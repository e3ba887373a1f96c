"""The SQL tracker store, made safe to use while PostgreSQL fails and comes back.

Why: Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore`, which turns a failed
`retrieve` into "no conversation yet" and a failed `save` into a save to process memory that
nothing ever reads. While PostgreSQL is down, users therefore get normal-looking answers
(without the conversation's context) that are never stored: acknowledged messages are lost.
Worse, if PostgreSQL comes back between the failed `retrieve` and the `save`, the fresh
tracker's events are appended after the stored ones by position, which corrupts the stored
conversation. Rasa's engine also has no pool pre-ping, so connections of a restarted
PostgreSQL fail once more after it is back.

This subclass:
- pings each pooled connection when it is checked out (`pool_pre_ping`), so a restarted
  PostgreSQL is used again at once, without restarting Rasa, and bounds every connection
  attempt (`connect_timeout`, seconds; default 5);
- records every failure in the turn being processed (`current_turn`, set by our connectors,
  connectors/turn_guard.py): the connector then discards the turn's replies and tells the user
  to try again, so no message is acknowledged that is not stored;
- refuses to save a turn whose `retrieve` failed (that tracker does not continue the stored
  conversation), so the stored conversation stays intact.

Configure it in the endpoints file as `tracker_store: type: tracker_store.ReliableSQLTrackerStore`
with the keys of `type: SQL` (deploy/endpoints.yml); bot/ must be on Rasa's PYTHONPATH.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from policies.sqlite_engine import use_sqlite_file_engine
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store failed in this turn; the turn must not be acknowledged."""


@dataclass
class TurnRecord:
    """What went wrong with the tracker store while one user message was processed."""

    store_error: str | None = None  # the first failure, e.g. "retrieve: OperationalError"
    retrieve_failed: bool = False


# The turn the current task is processing; None outside our connectors (HTTP API, Telegram).
current_turn: ContextVar[TurnRecord | None] = ContextVar("opastin_current_turn", default=None)


@contextmanager
def watched_turn() -> Iterator[TurnRecord]:
    """Record the tracker store's failures during the block (one user message)."""
    record = TurnRecord()
    token = current_turn.set(record)
    try:
        yield record
    finally:
        current_turn.reset(token)


def _note(operation: str, error: BaseException) -> None:
    record = current_turn.get()
    if record is not None and record.store_error is None:
        record.store_error = f"{operation}: {type(error).__name__}"


class ReliableSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store with pre-ping, bounded connects and failures reported."""

    def __init__(
        self, *args: Any, connect_timeout: float | str = DEFAULT_CONNECT_TIMEOUT, **kwargs: Any
    ) -> None:
        timeout = float(connect_timeout)
        if timeout <= 0:
            raise ValueError(f"tracker_store: connect_timeout must be > 0 seconds, not {timeout}")
        super().__init__(*args, **kwargs)
        if use_sqlite_file_engine(self, pool_pre_ping=True):  # kept WAL connections to a file
            return
        url = self.engine.url
        engine_kwargs = create_engine_kwargs(url)
        if self.engine.dialect.name == "postgresql":
            engine_kwargs["connect_args"] = {
                **engine_kwargs.get("connect_args", {}),
                "connect_timeout": max(1, round(timeout)),  # libpq takes whole seconds
            }
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **engine_kwargs)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await super().retrieve(sender_id)
        except Exception as error:
            self._retrieve_failed(error)
            raise

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except Exception as error:
            self._retrieve_failed(error)
            raise

    async def save(self, tracker: DialogueStateTracker) -> None:
        record = current_turn.get()
        if record is not None and record.retrieve_failed:
            # Rasa carries on with an empty tracker; storing it would append its events to the
            # stored conversation by position. FailSafeTrackerStore logs this and moves on.
            raise TrackerStoreUnavailable(
                "not saved: the conversation could not be read in this turn"
            )
        try:
            await super().save(tracker)
        except Exception as error:
            _note("save", error)
            raise

    def _retrieve_failed(self, error: Exception) -> None:
        _note("retrieve", error)
        record = current_turn.get()
        if record is not None:
            record.retrieve_failed = True
