#!/bin/sh
# Entrypoint of the Rasa image: before `rasa run`, check PostgreSQL and Redis (bot/preflight.py:
# a clear error within PREFLIGHT_TIMEOUT seconds; Rasa 3.6 itself would start anyway and keep
# conversations in memory only). Any other rasa command runs as it is.
# `rasa run` alone imports a stand-in instead of TensorFlow (bot/sitecustomize.py, ~290 MB less
# per replica) unless OPASTIN_RASA_WITHOUT_TENSORFLOW=false; train, shell, test keep the real one.
set -e
if [ "${1:-}" = "run" ]; then
  python /app/preflight.py
  case "${OPASTIN_RASA_WITHOUT_TENSORFLOW:-true}" in
    true | 1) export OPASTIN_TENSORFLOW_STANDIN=1 ;;
    false | 0) export OPASTIN_TENSORFLOW_STANDIN=0 ;;
    *)
      echo "error: OPASTIN_RASA_WITHOUT_TENSORFLOW must be true or false," \
        "not '${OPASTIN_RASA_WITHOUT_TENSORFLOW}'" >&2
      exit 2
      ;;
  esac
else
  unset OPASTIN_TENSORFLOW_STANDIN
fi
exec rasa "$@"
