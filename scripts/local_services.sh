#!/usr/bin/env bash
# Private PostgreSQL and Redis on loopback, for the multi-instance topology without containers
# (tests/scale, tools/loadtest/). Nothing system-wide: free ports on 127.0.0.1, data in a
# fresh temporary directory, removed again by `stop`.
#
#   scripts/local_services.sh start STATE_DIR   # writes STATE_DIR/services.env (KEY=value)
#   scripts/local_services.sh stop STATE_DIR    # stops both, deletes their data
#
# services.env holds POSTGRES_HOST/PORT/DB/USER/PASSWORD and REDIS_HOST/PORT/PASSWORD, the
# variables deploy/endpoints.yml reads. PostgreSQL refuses to run as root, so under root both
# servers run as the `postgres` user of Debian's package (or a created system user).
# The packages come from scripts/system_deps.sh.
set -euo pipefail

die() { echo "error: local_services: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 start|stop STATE_DIR"
action=$1
state=$(realpath -m "$2")
env_file=$state/services.env

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/pg_ctl" ] || die "PostgreSQL is not installed (run scripts/system_deps.sh)"
command -v redis-server >/dev/null || die "redis-server is not installed (run scripts/system_deps.sh)"

if [ "$(id -u)" -eq 0 ]; then
  user=postgres
  if ! id "$user" >/dev/null 2>&1; then
    user=opastin-services
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  as_user() { runuser -u "$user" -- "$@"; }
else
  user=$(id -un)
  as_user() { "$@"; }
fi

free_ports() {  # two distinct free TCP ports on 127.0.0.1
  python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))'
}

stop() {
  [ -f "$env_file" ] || return 0
  # shellcheck disable=SC1090
  source "$env_file"
  if [ -n "${SERVICES_DATA_DIR:-}" ] && [ -d "$SERVICES_DATA_DIR" ]; then
    if [ -f "$SERVICES_DATA_DIR/pg/postmaster.pid" ]; then
      as_user "$pg_bin/pg_ctl" -D "$SERVICES_DATA_DIR/pg" -m fast -t 30 stop >/dev/null || true
    fi
    if [ -f "$SERVICES_DATA_DIR/redis.pid" ]; then
      kill "$(cat "$SERVICES_DATA_DIR/redis.pid")" 2>/dev/null || true
      for _ in $(seq 50); do [ -f "$SERVICES_DATA_DIR/redis.pid" ] || break; sleep 0.1; done
    fi
    rm -rf "$SERVICES_DATA_DIR"
  fi
  rm -f "$env_file"
}

start() {
  [ -f "$env_file" ] && die "$env_file exists: stop the services first ($0 stop $state)"
  mkdir -p "$state"
  read -r pg_port redis_port < <(free_ports)
  data=$(mktemp -d /tmp/opastin-services.XXXXXX)
  chmod 755 "$data"
  mkdir -p "$data/pg" "$data/run" "$data/redis"
  chown -R "$user" "$data"
  pg_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  redis_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  # Written first, so that `stop` cleans up even when a start-up step below fails.
  cat > "$env_file" <<ENV
SERVICES_DATA_DIR=$data
POSTGRES_HOST=127.0.0.1
POSTGRES_PORT=$pg_port
POSTGRES_DB=opastin
POSTGRES_USER=opastin
POSTGRES_PASSWORD=$pg_password
REDIS_HOST=127.0.0.1
REDIS_PORT=$redis_port
REDIS_PASSWORD=$redis_password
ENV
  trap 'echo "error: local_services: start failed; logs in $data" >&2; tail -n 20 "$data"/*.log >&2 || true; stop' ERR

  as_user "$pg_bin/initdb" -D "$data/pg" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1
  as_user "$pg_bin/pg_ctl" -D "$data/pg" -l "$data/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $data/run -c max_connections=200" \
    start >/dev/null
  as_user "$pg_bin/psql" -X -q -h "$data/run" -p "$pg_port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE opastin LOGIN PASSWORD '$pg_password';
CREATE DATABASE opastin OWNER opastin;
SQL

  as_user redis-server --bind 127.0.0.1 --port "$redis_port" --requirepass "$redis_password" \
    --daemonize yes --pidfile "$data/redis.pid" --dir "$data/redis" \
    --logfile "$data/redis.log" --save "" --appendonly no
  for _ in $(seq 100); do
    if redis-cli -h 127.0.0.1 -p "$redis_port" -a "$redis_password" --no-auth-warning ping \
      2>/dev/null | grep -q PONG; then
      trap - ERR
      echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (state: $env_file)"
      return 0
    fi
    sleep 0.1
  done
  echo "Redis did not answer on 127.0.0.1:$redis_port" >&2
  false
}

case $action in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop STATE_DIR" ;;
esac
