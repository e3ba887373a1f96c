"""The SQL tracker store on a SQLite file: one kept connection in WAL mode, not one per query.

Rasa 3.6 creates the SQL tracker store's engine with SQLAlchemy 1.4's defaults, which for a
SQLite file are a new connection for every session (NullPool: open the file, read the schema,
close) and the rollback journal: each commit creates, syncs and deletes a journal file and syncs
the database, about 1.2 ms of CPU and 19 ms of waiting on this machine's disk
(docs/performance.md, "Fourth pass"). Rasa runs the store inside its event loop, so every turn's
commit stopped all of Rasa's other conversations for those 19 ms.

Here a store on a SQLite file gets an engine that keeps its connections (QueuePool) and opens
them with `journal_mode=WAL` and `synchronous=FULL`: a commit appends to the write-ahead log and
syncs it once (0.4 ms of CPU, 5 ms). FULL keeps what the rollback journal gave: a committed turn
survives a power cut, so the connectors still acknowledge only what is on disk. WAL is a
property of the database file (it keeps `-wal` and `-shm` files beside it); `sqlite3 .backup`
(docs/operations.md) and other readers work with it as before. In-memory databases and other
dialects keep Rasa's engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

Scope = Callable[[Any], Any]
_DONE = "_opastin_sqlite_engine"


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def is_sqlite_file(url: Any) -> bool:
    """Whether `url` names a SQLite database in a file (not in memory)."""
    url = sa.engine.make_url(url)
    database = url.database or ""
    memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    return url.get_backend_name() == "sqlite" and not memory


def sqlite_file_engine(url: Any, **kwargs: Any) -> sa.engine.Engine:
    """An engine for a SQLite file that keeps its connections, each in WAL mode."""
    connect_args = {**kwargs.pop("connect_args", {}), "check_same_thread": False}
    engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args=connect_args, **kwargs)
    sa.event.listen(engine, "connect", _write_ahead_log)
    return engine


def use_sqlite_file_engine(store: Any, **engine_kwargs: Any) -> bool:
    """Give `store` (an SQLTrackerStore) the kept WAL connections if it is on a SQLite file."""
    store.__dict__[_DONE] = True
    if not is_sqlite_file(store.engine.url):
        return False
    url = store.engine.url
    store.engine.dispose()
    store.engine = sqlite_file_engine(url, **engine_kwargs)
    store.sessionmaker = sa.orm.session.sessionmaker(bind=store.engine)
    return True


def kept_connections(original: Scope) -> Scope:
    """`original` (SQLTrackerStore.session_scope), on the SQLite file engine where it applies.

    The engine is swapped at the store's first session, not in its constructor: `rasa run`
    creates the tracker store before it loads the model, which is what imports this package.
    """

    def session_scope(self: Any) -> Any:
        if _DONE not in self.__dict__:
            use_sqlite_file_engine(self)
        return original(self)

    session_scope.__wrapped__ = original  # type: ignore[attr-defined]
    return session_scope


def install() -> bool:
    """Wrap SQLTrackerStore.session_scope once per process; False if already done."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa_patches import replace_once

    return replace_once(SQLTrackerStore, "session_scope", kept_connections)
