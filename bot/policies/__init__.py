"""Our own Rasa policies (run inside the Rasa server, .venvs/rasa).

Importing this package (Rasa does, for the policy in config.yml) also makes Rasa check
action-server responses with one prepared validator (action_response_validation.py) and find
event classes by type name from a cache (event_types.py), continue a tracker's past
states and its copies from their last replay (tracker_states.py, tracker_copy.py), run
prediction graphs without dask's scheduler (graph_runner.py), read and write the SQL tracker
store's events with SQLAlchemy Core instead of its ORM (sql_store_core.py), keep each
conversation's tracker and past states between turns so a turn reads and replays only its new
events (tracker_cache.py), and keep a SQLite tracker store's connection open in WAL mode
(sqlite_engine.py); and makes action calls carry the NLU's query vector and, with selective
domain on, only the domain's slots (action_call.py); and lets an answer validate the slots in
its own action-server call instead of a separate one (validation_in_call.py).
"""

from policies import (
    action_call,
    action_response_validation,
    event_types,
    graph_runner,
    sql_store_core,
    sqlite_engine,
    tracker_copy,
    tracker_states,
    validation_in_call,
)

action_call.install()
action_response_validation.install()
event_types.install()
tracker_states.install()
tracker_copy.install()
graph_runner.install()
sql_store_core.install()
sqlite_engine.install()
validation_in_call.install()
