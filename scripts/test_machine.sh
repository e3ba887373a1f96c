#!/usr/bin/env bash
# What `make test` needs on a fresh machine, fetched at the same time: both venvs (pip), the
# widget (npm) and the Debian packages with Chromium (apt). The three are independent and
# mostly wait on downloads: one after the other they took about 12 minutes on a fresh clone.
# Each is a no-op when already in place. The npm and apt output goes to var/logs/ and is shown
# only when that part fails.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/logs
py=$(scripts/find_python.sh 3.11) || exit 1
"$py" scripts/bootstrap.py &
venvs=$!
scripts/setup_web.sh > var/logs/setup-web.log 2>&1 &
web=$!
scripts/system_deps.sh --browser > var/logs/setup-system.log 2>&1 &
system=$!
failed=0
wait "$venvs" || failed=1
for part in web system; do
  if wait "${!part}"; then
    grep -h '^\[' "var/logs/setup-$part.log" || true
  else
    echo "error: setting up the $part part failed (var/logs/setup-$part.log):" >&2
    tail -n 30 "var/logs/setup-$part.log" >&2
    failed=1
  fi
done
exit "$failed"
