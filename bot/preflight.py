"""Check PostgreSQL and Redis before Rasa starts: a clear error within a bound, never a hang.

Why: Rasa 3.6's SQL tracker store retries an unreachable database every 5 s forever at
start-up, without serving and without saying so above WARNING; and its Redis lock store only
fails on the first user message. Run this first (docker-compose.yml does, so does
tools/loadtest/) with the variables deploy/endpoints.yml reads:

    POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER POSTGRES_PASSWORD
    REDIS_HOST REDIS_PORT REDIS_PASSWORD

It tries until PREFLIGHT_TIMEOUT seconds (default 60) have passed, which covers a database
that is still starting, then exits 1 with what failed and why; 0 when both answer. A password
or session secret left at the placeholder of .env.example is refused at once, as is a session
secret too short to sign the widget's ids: docker-compose can only refuse an unset variable,
and a deployment on `change-me` would look healthy.
Runs in Rasa's Python environment (SQLAlchemy, psycopg2 and redis come with Rasa).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from connectors.session_ids import MIN_SECRET_CHARS, SECRET_ENV

# The placeholder values of .env.example (compared ignoring case and surrounding spaces).
PLACEHOLDER_SECRETS = {"change-me", "changeme"}
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", SECRET_ENV)


def placeholder_secrets(env: dict[str, str]) -> list[str]:
    """The secret variables that still hold a placeholder value."""
    return [name for name in SECRETS if env.get(name, "").strip().lower() in PLACEHOLDER_SECRETS]


def short_session_secret(env: dict[str, str]) -> bool:
    """A session secret set but too short to sign ids (unset: the connector keeps its own file,
    which `make run` uses; compose requires it to be set)."""
    secret = env.get(SECRET_ENV)
    return secret is not None and len(secret) < MIN_SECRET_CHARS


def check_postgres(env: dict[str, str], timeout: float) -> None:
    """Log in and run SELECT 1, as Rasa's SQL tracker store will."""
    import sqlalchemy

    url = sqlalchemy.engine.URL.create(
        "postgresql",
        username=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        database=env["POSTGRES_DB"],
    )
    engine = sqlalchemy.create_engine(url, connect_args={"connect_timeout": max(1, int(timeout))})
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    finally:
        engine.dispose()


def check_redis(env: dict[str, str], timeout: float) -> None:
    """PING with the password, as Rasa's Redis lock store will."""
    import redis

    client = redis.StrictRedis(
        host=env["REDIS_HOST"],
        port=int(env["REDIS_PORT"]),
        password=env.get("REDIS_PASSWORD") or None,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    try:
        client.ping()
    finally:
        client.close()


def first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def wait_for(name: str, where: str, check: Callable[[float], None], deadline: float) -> str | None:
    """Retry `check` until it passes (None) or the deadline passes (the last error)."""
    last = "not tried"
    while True:
        remaining = deadline - time.monotonic()
        try:
            check(max(1.0, min(5.0, remaining)))
            print(f"preflight: {name} at {where}: ok", flush=True)
            return None
        except Exception as error:  # any failure to connect or log in is reported, not raised
            last = first_line(error)
        if time.monotonic() + 1 > deadline:
            return last
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("PREFLIGHT_TIMEOUT", "60")),
        help="seconds to keep trying (default: PREFLIGHT_TIMEOUT or 60)",
    )
    args = parser.parse_args(argv)
    env = dict(os.environ)
    required = ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER"]
    required += ["POSTGRES_PASSWORD", "REDIS_HOST", "REDIS_PORT"]
    missing = [name for name in required if not env.get(name)]
    if missing:
        print(f"preflight: error: not set: {', '.join(missing)}", file=sys.stderr)
        return 1
    placeholders = placeholder_secrets(env)
    if placeholders:
        print(
            f"preflight: error: {', '.join(placeholders)} still the placeholder of "
            ".env.example: set secrets of your own in .env and start again",
            file=sys.stderr,
        )
        return 1
    if short_session_secret(env):
        print(
            f"preflight: error: {SECRET_ENV} is shorter than {MIN_SECRET_CHARS} characters: set "
            "a random one in .env (every Rasa replica shares it) and start again",
            file=sys.stderr,
        )
        return 1
    deadline = time.monotonic() + args.timeout
    services = [
        (
            "PostgreSQL (tracker store)",
            f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DB']}",
            lambda t: check_postgres(env, t),
        ),
        (
            "Redis (lock store)",
            f"{env['REDIS_HOST']}:{env['REDIS_PORT']}",
            lambda t: check_redis(env, t),
        ),
    ]
    failed = False
    for name, where, check in services:
        error = wait_for(name, where, check, deadline)
        if error is not None:
            failed = True
            print(
                f"preflight: error: {name} at {where} unreachable after {args.timeout:.0f} s: "
                f"{error}",
                file=sys.stderr,
                flush=True,
            )
    if failed:
        print("preflight: Rasa not started: fix the above and start again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
