"""Least-privilege database roles (deploy/postgres-roles.sh) on the scale suite's PostgreSQL.

The script docker-compose mounts into the postgres image's init folder runs here against a
fresh database of the session's PostgreSQL (its own roles, so the topology's `opastin` is
untouched). Then Rasa's own SQLTrackerStore writes a conversation as the Rasa role, the
console's TrackerStore reads and deletes as the console role, and everything else either role
must not do is tried and refused by PostgreSQL itself.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql

from console.store import TrackerStore
from opastin.config import ROOT
from opastin.stack import QUIET_ENV
from tests.console.conftest import DAY, Conversation
from tests.unit.test_deployment import config

pytestmark = [pytest.mark.slow]

RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
INIT_FOLDER = "/docker-entrypoint-initdb.d/"


def roles_script() -> Path:
    """The file docker-compose mounts into the postgres image's init folder."""
    mounts = [v.split(":") for v in config()["services"]["postgres"]["volumes"]]
    (host,) = [m[0] for m in mounts if m[1].startswith(INIT_FOLDER)]
    return Path(host)


def run_roles_script(services: dict[str, str], env: dict[str, str]) -> None:
    """As the postgres image runs it at init: the administrator over the local socket."""
    pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    socket = {"PGHOST": f"{services['SERVICES_DATA_DIR']}/run", "PGPORT": services["POSTGRES_PORT"]}
    path = f"{pg_bin}:{os.environ['PATH']}"
    result = subprocess.run(
        ["sh", str(roles_script())],
        env={**os.environ, **socket, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


NOW = time.time()
OLD = Conversation("roles-old", NOW - 40 * DAY).user("hello", "greet").events
NEW = Conversation("roles-new", NOW - DAY).user("tax card?", "ask").events


@pytest.fixture(scope="module")
def database(services: dict[str, str]) -> Iterator[dict[str, str]]:
    """A new database with the two roles made by the script, and two conversations Rasa
    saved in it as its role (one Rasa start for the module: importing Rasa takes a while)."""
    suffix = secrets.token_hex(4)
    names = {
        "POSTGRES_USER": "postgres",  # the image's administrator (here: initdb's superuser)
        "POSTGRES_DB": f"roles_{suffix}",
        "RASA_DB_USER": f"rasa_{suffix}",
        "RASA_DB_PASSWORD": secrets.token_urlsafe(24),
        "CONSOLE_DB_USER": f"console_{suffix}",
        "CONSOLE_DB_PASSWORD": secrets.token_urlsafe(24),
    }
    admin = admin_connection(services, "postgres")
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(names["POSTGRES_DB"])))
    try:
        run_roles_script(services, names)
        rasa_writes(services, names, {"roles-old": OLD, "roles-new": NEW})
        yield names
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(names["POSTGRES_DB"]))
        )
        for role in ("RASA_DB_USER", "CONSOLE_DB_USER"):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[role])))
        admin.close()


def admin_connection(services: dict[str, str], dbname: str) -> psycopg.Connection:
    socket = f"{services['SERVICES_DATA_DIR']}/run"
    return psycopg.connect(
        host=socket, port=services["POSTGRES_PORT"], user="postgres", dbname=dbname, autocommit=True
    )


def connect(services: dict[str, str], database: dict[str, str], who: str) -> psycopg.Connection:
    """A TCP login with a password, as the Rasa and retention containers log in."""
    return psycopg.connect(
        host=services["POSTGRES_HOST"],
        port=services["POSTGRES_PORT"],
        dbname=database["POSTGRES_DB"],
        user=database[f"{who}_DB_USER"],
        password=database[f"{who}_DB_PASSWORD"],
        autocommit=True,
    )


def rasa_writes(services: dict[str, str], database: dict[str, str], conversations: dict) -> None:
    """Rasa's SQLTrackerStore (Rasa venv) saves the conversations, logged in as the Rasa role."""
    data = Path(services["SERVICES_DATA_DIR"]).parent / f"{database['POSTGRES_DB']}.json"
    data.write_text(json.dumps(conversations))
    login = {
        **services,
        "POSTGRES_DB": database["POSTGRES_DB"],
        "POSTGRES_USER": database["RASA_DB_USER"],
        "POSTGRES_PASSWORD": database["RASA_DB_PASSWORD"],
    }
    code = (
        "import asyncio, json, sys; from tests.console.pg_store_check import write; "
        "asyncio.run(write(json.load(open(sys.argv[1]))))"
    )
    try:
        result = subprocess.run(
            [str(RASA_PYTHON), "-c", code, str(data)],
            cwd=ROOT,
            env={**os.environ, **QUIET_ENV, **login, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        data.unlink()
    assert result.returncode == 0, result.stderr[-3000:]


def refused(connection: psycopg.Connection, statement: str) -> bool:
    try:
        connection.execute(statement)  # type: ignore[arg-type]  # literal SQL of this test
    except errors.InsufficientPrivilege:
        return True
    return False


def test_rasa_owns_only_its_tracker_database_and_is_no_superuser(services, database) -> None:
    with connect(services, database, "RASA") as rasa:
        role = rasa.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role == (False, False, False, False, False)
        owned = rasa.execute(
            "SELECT datname FROM pg_database WHERE datdba = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        ).fetchall()
        assert owned == [(database["POSTGRES_DB"],)]
        owner = rasa.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'events'")
        assert owner.fetchall() == [(database["RASA_DB_USER"],)], "Rasa made its own table"
        assert refused(rasa, "CREATE DATABASE rasa_should_not")
        assert refused(rasa, "CREATE ROLE rasa_should_not")
        assert refused(rasa, "ALTER SYSTEM SET log_statement = 'all'")
        assert refused(rasa, "COPY events TO PROGRAM 'true'")


def test_the_console_reads_and_deletes_events_and_nothing_more(services, database) -> None:
    console_url = (
        f"postgresql://{database['CONSOLE_DB_USER']}:{database['CONSOLE_DB_PASSWORD']}@"
        f"{services['POSTGRES_HOST']}:{services['POSTGRES_PORT']}/{database['POSTGRES_DB']}"
    )
    store = TrackerStore(console_url)
    assert set(store.keys()) == {"roles-old", "roles-new"}
    assert [e["event"] for e in store.events("roles-new")] == [e["event"] for e in NEW]
    assert store.delete(["roles-old"]) == len(OLD)  # retention and `console forget`
    assert set(store.keys()) == {"roles-new"}
    with connect(services, database, "CONSOLE") as console:
        role = console.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert role == (False, False, False)
        for statement in (
            "INSERT INTO events (sender_id, type_name, data) VALUES ('x', 'user', '{}')",
            "UPDATE events SET data = '{}'",
            "TRUNCATE events",
            "DROP TABLE events",
            "ALTER TABLE events ADD COLUMN leak text",
            "CREATE TABLE console_should_not (x int)",
            "CREATE DATABASE console_should_not",
        ):
            assert refused(console, statement), statement
        assert console.execute("SELECT COUNT(*) FROM events").fetchone() == (len(NEW),)


def test_a_deployment_whose_tables_the_administrator_made_is_handed_to_rasa(
    services, database
) -> None:
    """Before these roles, Rasa logged in as the administrator: running the script again on
    such a database (docs/operations.md) gives Rasa its tables and the console its rights."""
    admin = admin_connection(services, database["POSTGRES_DB"])
    admin.execute("CREATE TABLE legacy_events (id serial PRIMARY KEY, note text)")
    admin.execute("CREATE SEQUENCE legacy_counter")
    admin.close()
    run_roles_script(services, database)
    with connect(services, database, "RASA") as rasa:
        rasa.execute("INSERT INTO legacy_events (note) VALUES ('kept')")
        assert rasa.execute("SELECT nextval('legacy_counter')").fetchone() == (1,)
    with connect(services, database, "CONSOLE") as console:
        assert console.execute("SELECT note FROM legacy_events").fetchall() == [("kept",)]
        assert refused(console, "INSERT INTO legacy_events (note) VALUES ('no')")
        console.execute("DELETE FROM legacy_events")
