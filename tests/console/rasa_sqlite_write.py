"""Run by tests/console/test_privacy.py with the Rasa venv's Python: Rasa's own SQLTrackerStore
writes conversations (JSON file: sender id -> events) into a SQLite file, exactly as `rasa run`
does with the default tracker store. Then, with the same store, prints which senders Rasa can
still load, so a test can check a deletion from Rasa's side.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker


async def main(db: str, conversations_file: str | None) -> None:
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=db)
    if conversations_file:
        conversations = json.loads(Path(conversations_file).read_text(encoding="utf-8"))
        for sender, events in conversations.items():
            await store.save(DialogueStateTracker.from_dict(sender, events))
    keys = sorted(await store.keys())
    loaded = {k: len((await store.retrieve(k)).events) for k in keys}
    print(json.dumps(loaded))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
