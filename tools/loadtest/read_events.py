"""Print the tracker store's events of some conversations as JSON (runs in the Rasa venv).

    LOADTEST_DB_URL=postgresql://... .venvs/rasa/bin/python tools/loadtest/read_events.py
    < senders.json

Run as a file, not as a module of the tools package: the Rasa venv has Rasa's SQLAlchemy and
database drivers, but not the tools' dependencies. Senders come as a JSON list on stdin; the
output is {sender_id: [event, ...]} in insertion order.
"""

import json
import os
import sys

import sqlalchemy as sa


def main() -> int:
    senders = json.load(sys.stdin)
    engine = sa.create_engine(os.environ["LOADTEST_DB_URL"])
    query = sa.text(
        "SELECT sender_id, data FROM events WHERE sender_id IN :senders ORDER BY id"
    ).bindparams(sa.bindparam("senders", expanding=True))
    events: dict = {}
    with engine.connect() as connection:
        for sender, data in connection.execute(query, {"senders": senders}):
            events.setdefault(sender, []).append(json.loads(data))
    json.dump(events, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
