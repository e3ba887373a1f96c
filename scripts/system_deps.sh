#!/usr/bin/env bash
# Install the Debian packages the test suite needs (only those missing): docker-compose
# (validates docker-compose.yml offline). Needs root; otherwise says what to install.
set -euo pipefail
needed=()
command -v docker-compose >/dev/null 2>&1 || needed+=(docker-compose)
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${needed[*]}; install them with: sudo apt-get install ${needed[*]}" >&2
  exit 1
fi
echo "[system-deps] installing ${needed[*]}"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null
