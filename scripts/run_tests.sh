#!/usr/bin/env bash
# `make test` after set-up: lint, types, then every test. The Rasa venv's unit tests
# (tests/rasa_venv, no model needed) run beside `opastin prepare` instead of after pytest:
# prepare keeps both cores busy for ~6 minutes on a fresh clone, and these tests mostly wait
# on the small servers they start, so they add seconds there instead of a minute at the end.
# Their output is shown after the main run; the exit code fails if either part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ACTIONS_PY=.venvs/actions/bin/python
mkdir -p var/logs
"$ACTIONS_PY" -m ruff check . || exit 1
"$ACTIONS_PY" -m ruff format --check . || exit 1
"$ACTIONS_PY" -m mypy || exit 1

rasa_log=var/logs/tests-rasa-venv.log
.venvs/rasa/bin/python -m pytest tests/rasa_venv > "$rasa_log" 2>&1 &
rasa_tests=$!

failed=0
# Index and model before pytest: built once with progress, outside pytest's per-test timeout.
"$ACTIONS_PY" -m opastin prepare || failed=1
if [ "$failed" = 0 ]; then
  "$ACTIONS_PY" -m pytest -n 2 --dist loadgroup --durations=25 || failed=1
fi

if wait "$rasa_tests"; then
  echo "tests/rasa_venv (Rasa venv, run beside prepare): $(tail -n 1 "$rasa_log")"
else
  echo "error: tests/rasa_venv failed (full output in $rasa_log):" >&2
  tail -n 60 "$rasa_log" >&2
  failed=1
fi
exit "$failed"
