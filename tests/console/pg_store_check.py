"""Run by tests/console/test_postgres_store.py with the Rasa venv's Python (psycopg2 is there).

Rasa's own SQLTrackerStore writes the conversations into PostgreSQL (so the table is exactly
what production has); then the console's TrackerStore reads, summarises and deletes them
through the same SQL it uses for SQLite. Prints one JSON line of observations.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from console.conversations import ConversationIndex
from console.pseudonyms import Pseudonyms
from console.retention import purge
from console.store import TrackerStore


async def write(conversations: dict[str, list[dict]]) -> None:
    store = SQLTrackerStore(
        Domain.empty(),
        dialect="postgresql",
        host=os.environ["POSTGRES_HOST"],
        port=int(os.environ["POSTGRES_PORT"]),
        db=os.environ["POSTGRES_DB"],
        username=os.environ["POSTGRES_USER"],
        password=os.environ["POSTGRES_PASSWORD"],
    )
    for sender, events in conversations.items():
        await store.save(DialogueStateTracker.from_dict(sender, events))


def main() -> None:
    conversations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    now = float(sys.argv[2])
    asyncio.run(write(conversations))
    env = os.environ
    url = (
        f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@"
        f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DB']}"
    )
    store = TrackerStore(url)
    keys = store.keys()
    summaries = ConversationIndex(store, Pseudonyms(b"pg-check" * 4)).refresh()
    out = {
        "describe": store.describe(),
        "keys": {s: k.events for s, k in keys.items()},
        "events_match": all(
            [e["event"] for e in store.events(s)] == [e["event"] for e in events]
            for s, events in conversations.items()
        ),
        "previews": {s: summaries[s].preview for s in summaries},
        "fallback": sorted(s for s in summaries if summaries[s].fallback),
        "idle": store.idle_since(now - 30 * 86400),
    }
    result = purge(store, None, 30, now=now)
    out["purged"] = result.conversations
    out["purged_events"] = result.events
    out["left"] = sorted(store.keys())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
