"""Load test: N concurrent conversations of M turns over REST and socket.io, then a store audit.

Why: the production topology (several Rasa instances sharing a PostgreSQL tracker store and a
Redis lock store) must neither lose nor duplicate anything under load. This client measures
throughput and latency, and afterwards reads the tracker store's `events` table and checks that
every user message and every bot reply the client saw is recorded exactly once, in its place.

    python -m tools.loadtest --store postgres --rasa 2 -n 40 -m 5     # local topology
    python -m tools.loadtest --url http://127.0.0.1:5005 --tracker-db sqlite:////path/tracker.db

The first form starts everything itself on loopback (PostgreSQL and Redis through
scripts/local_services.sh, the action server(s), the Rasa instances) and stops it afterwards;
the second drives servers that are already running. REST turns of a conversation alternate
between the Rasa instances, so consecutive turns are served by different instances; a socket.io
conversation (python-socketio's client over WebSocket, as the widget) sticks to one instance
(as behind nginx's ip_hash) and reconnects to the next one half-way, as after a page reload.
Traffic goes to loopback addresses only, and every run is bounded in conversations, turns and
time. Exit status 0 only when there were no errors and the store audit found nothing.

Modules: results (turns, conversations, limits), clients (REST and socket.io), runner (the
plan and the concurrent run), audit (the tracker store check), topology (servers and
services), report (tables and pictures), cli (the command).
"""

from tools.loadtest.audit import audit, audit_conversation, read_events
from tools.loadtest.report import LoadReport
from tools.loadtest.results import Conversation, Turn, require_loopback
from tools.loadtest.runner import LoadPlan, run_load
from tools.loadtest.topology import (
    DEPLOY_ENDPOINTS,
    RASA_PYTHON,
    SERVICES_SCRIPT,
    LocalTopology,
    local_topology,
    read_env_file,
)

__all__ = [
    "DEPLOY_ENDPOINTS",
    "RASA_PYTHON",
    "SERVICES_SCRIPT",
    "Conversation",
    "LoadPlan",
    "LoadReport",
    "LocalTopology",
    "Turn",
    "audit",
    "audit_conversation",
    "local_topology",
    "read_env_file",
    "read_events",
    "require_loopback",
    "run_load",
]
