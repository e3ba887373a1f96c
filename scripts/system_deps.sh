#!/usr/bin/env bash
# Install the Debian packages the test suite needs (only those missing):
#   docker-compose  validates docker-compose.yml offline
#   postgresql      the SQL tracker store of the multi-instance topology (tests/scale)
#   redis-server    the lock store of the multi-instance topology (tests/scale)
#   nginx           deploy/nginx.conf in front of the local topology (tests/scale)
#   strace, iproute2  the offline test: servers in a loopback-only network namespace, every
#                   connect() traced (tests/e2e/test_offline.py)
#   chromium        with --browser: the widget and console browser tests (tests/browser)
# Needs root; otherwise says what to install. The services are not started here:
# scripts/local_services.sh starts private instances on loopback when a test needs them.
set -euo pipefail
needed=()
[ "${1:-}" = --browser ] && { [ -x /usr/bin/chromium ] || needed+=(chromium); }
command -v docker-compose >/dev/null 2>&1 || needed+=(docker-compose)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || needed+=(postgresql)
command -v redis-server >/dev/null 2>&1 || needed+=(redis-server)
[ -x /usr/sbin/nginx ] || needed+=(nginx)
command -v strace >/dev/null 2>&1 || needed+=(strace)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || needed+=(iproute2)
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${needed[*]}; install them with: sudo apt-get install ${needed[*]}" >&2
  exit 1
fi
echo "[system-deps] installing ${needed[*]}"
apt-get update -qq >/dev/null
# policy-rc.d 101: Debian's maintainer scripts must not start system-wide services here.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap 'if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi' EXIT
DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
