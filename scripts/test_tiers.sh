# Sourced by scripts/check.sh (`make check`) and scripts/run_tests.sh (`make test`): the static
# checks both start with, and the Rasa venv's unit tests, which both run in the background
# beside the main work (they mostly import Rasa or wait on the small servers they start).
ACTIONS_PY=.venvs/actions/bin/python
RASA_PY=.venvs/rasa/bin/python

static_checks() {
  "$ACTIONS_PY" -m ruff check . && "$ACTIONS_PY" -m ruff format --check . && "$ACTIONS_PY" -m mypy
}

# start_rasa_tests LOG [PYTEST ARGS...]: tests/rasa_venv in the background, output to LOG.
start_rasa_tests() {
  rasa_log=$1
  shift
  mkdir -p "$(dirname "$rasa_log")"
  "$RASA_PY" -m pytest "$@" tests/rasa_venv > "$rasa_log" 2>&1 &
  rasa_tests=$!
}

# finish_rasa_tests LABEL: wait for them; their summary line, or the end of their log and 1.
finish_rasa_tests() {
  if wait "$rasa_tests"; then
    echo "$1: $(tail -n 1 "$rasa_log")"
  else
    echo "error: tests/rasa_venv failed (full output in $rasa_log):" >&2
    tail -n 60 "$rasa_log" >&2
    return 1
  fi
}
