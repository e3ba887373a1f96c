#!/usr/bin/env bash
# `make test` after set-up: lint, types, then every test. The Rasa venv's unit tests
# (tests/rasa_venv, no model needed) run beside `opastin prepare` instead of after pytest:
# prepare keeps both cores busy for ~6 minutes on a fresh clone, and these tests mostly wait
# on the small servers they start, so they add seconds there instead of a minute at the end.
# Their output is shown after the main run; the exit code fails if either part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/test_tiers.sh
static_checks || exit 1

start_rasa_tests var/logs/tests-rasa-venv.log
failed=0
# Index and model before pytest: built once with progress, outside pytest's per-test timeout.
"$ACTIONS_PY" -m opastin prepare || failed=1
if [ "$failed" = 0 ]; then
  "$ACTIONS_PY" -m pytest -n 2 --dist loadgroup --durations=25 || failed=1
fi
finish_rasa_tests "tests/rasa_venv (Rasa venv, run beside prepare)" || failed=1
exit "$failed"
