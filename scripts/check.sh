#!/usr/bin/env bash
# `make check`, the fast tier: lint, format, types, then the unit tests of both venvs at once.
# The Rasa venv's tests spend most of their time importing Rasa on one core, so they run beside
# the actions venv's tests (two xdist workers) instead of after them. No servers, browsers or
# system packages; assumes `make setup` has been run once.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/test_tiers.sh
for python in "$ACTIONS_PY" "$RASA_PY"; do
  test -x "$python" || { echo "error: no ${python%/bin/python}; run make setup first" >&2; exit 1; }
done
static_checks || exit 1

fast=(-m "not e2e and not slow" -q -p no:cacheprovider)
start_rasa_tests var/logs/check-rasa-venv.log "${fast[@]}"
failed=0
"$ACTIONS_PY" -m pytest "${fast[@]}" -n 2 tests/unit tests/console || failed=1
finish_rasa_tests "tests/rasa_venv" || failed=1
exit "$failed"
