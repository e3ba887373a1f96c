#!/usr/bin/env bash
# `make check`, the fast tier: lint, format, types, then the unit tests of both venvs at once.
# The Rasa venv's tests spend most of their time importing Rasa on one core, so they run beside
# the actions venv's tests (two xdist workers) instead of after them. No servers, browsers or
# system packages; assumes `make setup` has been run once.
set -uo pipefail
cd "$(dirname "$0")/.."
ACTIONS_PY=.venvs/actions/bin/python
RASA_PY=.venvs/rasa/bin/python
for python in "$ACTIONS_PY" "$RASA_PY"; do
  test -x "$python" || { echo "error: no ${python%/bin/python}; run make setup first" >&2; exit 1; }
done
"$ACTIONS_PY" -m ruff check . || exit 1
"$ACTIONS_PY" -m ruff format --check . || exit 1
"$ACTIONS_PY" -m mypy || exit 1

fast=(-m "not e2e and not slow" -q -p no:cacheprovider)
rasa_log=$(mktemp)
trap 'rm -f "$rasa_log"' EXIT
"$RASA_PY" -m pytest "${fast[@]}" tests/rasa_venv > "$rasa_log" 2>&1 &
rasa_tests=$!

failed=0
"$ACTIONS_PY" -m pytest "${fast[@]}" -n 2 tests/unit tests/console || failed=1
if wait "$rasa_tests"; then
  echo "tests/rasa_venv: $(tail -n 1 "$rasa_log")"
else
  echo "error: tests/rasa_venv failed:" >&2
  tail -n 60 "$rasa_log" >&2
  failed=1
fi
exit "$failed"
