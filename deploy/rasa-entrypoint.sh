#!/bin/sh
# Entrypoint of the Rasa image: before `rasa run`, check PostgreSQL and Redis (bot/preflight.py:
# a clear error within PREFLIGHT_TIMEOUT seconds; Rasa 3.6 itself would start anyway and keep
# conversations in memory only). Any other rasa command runs as it is.
set -e
if [ "${1:-}" = "run" ]; then
  python /app/preflight.py
fi
exec rasa "$@"
