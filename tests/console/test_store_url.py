"""The tracker-store setting: SQLAlchemy URLs of Rasa's dialects, clear errors, no password.

An unreachable PostgreSQL is a port on loopback where nothing listens: the real driver
(psycopg) really fails to connect. The store on a running PostgreSQL: test_postgres_store.py.
"""

from __future__ import annotations

import logging

import pydantic
import pytest

from console.app import make_app
from console.settings import ConsoleSettings
from console.store import TrackerStore, TrackerStoreError, tracker_url
from opastin.config import Settings
from tests.aiohttp_server import serve
from tests.console.conftest import MINI_CORPUS, Client, Clock, console_settings
from tests.console.test_cli import run as console_cli
from tools.servers import free_port

SECRET = "s3cret-Pa55"


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("/srv/rasa/tracker.db", "SQLite /srv/rasa/tracker.db"),
        ("sqlite:////srv/rasa/tracker.db", "SQLite /srv/rasa/tracker.db"),
        (f"postgresql://rasa:{SECRET}@db:5432/rasa", "PostgreSQL db:5432/rasa"),
        (f"postgresql+psycopg2://rasa:{SECRET}@db:5432/rasa", "PostgreSQL db:5432/rasa"),
        (f"postgresql+psycopg://rasa:{SECRET}@db/rasa", "PostgreSQL db/rasa"),
        (f"postgres://rasa:{SECRET}@db:5432/rasa", "PostgreSQL db:5432/rasa"),
        (f"mysql+pymysql://rasa:{SECRET}@db:3306/rasa", "MySQL db:3306/rasa"),
        (f"oracle://rasa:{SECRET}@db:1521/rasa", "oracle db:1521/rasa"),
    ],
)
def test_every_dialect_rasa_accepts_is_understood_and_described_without_secrets(value, where):
    store = TrackerStore(value)
    assert store.describe() == where
    assert SECRET not in store.describe() and SECRET not in repr(vars(store).get("_url"))
    assert ConsoleSettings(tracker_url=value).tracker_url == value


def test_a_driver_suffix_is_not_mistaken_for_a_sqlite_path():
    url = tracker_url(f"postgresql+psycopg2://rasa:{SECRET}@db:5432/rasa")
    assert url.get_backend_name() == "postgresql" and url.database == "rasa"
    assert TrackerStore(f"postgresql+psycopg2://rasa:{SECRET}@db/rasa").path is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"nosuchdb://rasa:{SECRET}@db/rasa", "not a database SQLAlchemy knows"),
        (f"postgresql+nosuchdriver://rasa:{SECRET}@db:5432x/rasa", "cannot be parsed"),
    ],
)
def test_a_bad_url_stops_the_start_with_a_reason_and_without_the_password(value, reason):
    with pytest.raises(ValueError, match=reason) as error:
        tracker_url(value)
    assert SECRET not in str(error.value)
    with pytest.raises(pydantic.ValidationError) as invalid:
        ConsoleSettings(tracker_url=value)
    assert reason in str(invalid.value) and SECRET not in str(invalid.value)


def test_an_unreachable_postgresql_is_a_clear_error_without_the_password(caplog):
    port = free_port()
    store = TrackerStore(f"postgresql+psycopg2://rasa:{SECRET}@127.0.0.1:{port}/rasa")
    with caplog.at_level(logging.DEBUG), pytest.raises(TrackerStoreError) as error:
        store.keys()
    message = str(error.value)
    assert message.startswith(f"cannot read the tracker store (PostgreSQL 127.0.0.1:{port}/rasa)")
    assert "refused" in message or "failed" in message, message
    assert SECRET not in message and SECRET not in caplog.text
    with pytest.raises(TrackerStoreError):
        store.delete(["web-aaa"])


def test_the_command_line_reports_an_unreachable_store_and_a_bad_url_clearly(tmp_path):
    port = free_port()
    down_url = f"postgresql://rasa:{SECRET}@127.0.0.1:{port}/rasa"
    down = console_cli(tmp_path, "list", extra={"CONSOLE_TRACKER_URL": down_url})
    assert down.returncode == 1
    assert f"error: cannot read the tracker store (PostgreSQL 127.0.0.1:{port}/rasa)" in (
        down.stderr
    )
    assert "Traceback" not in down.stderr and SECRET not in down.stderr + down.stdout
    bad_url = f"nosuchdb://rasa:{SECRET}@db/rasa"
    bad = console_cli(tmp_path, "list", extra={"CONSOLE_TRACKER_URL": bad_url})
    assert bad.returncode != 0 and "CONSOLE_TRACKER_URL" in bad.stderr
    assert SECRET not in bad.stderr + bad.stdout


def test_a_missing_driver_is_named_with_what_to_install():
    store = TrackerStore(f"mysql://rasa:{SECRET}@127.0.0.1:1/rasa")
    with pytest.raises(TrackerStoreError, match="pip install pymysql") as error:
        store.keys()
    assert SECRET not in str(error.value)


def test_the_web_console_answers_503_when_the_store_is_down(tmp_path):
    url = f"postgresql://rasa:{SECRET}@127.0.0.1:{free_port()}/rasa"
    settings = console_settings(tmp_path, tmp_path / "unused.db", tracker_url=url)
    app = make_app(settings, Settings(corpus_dir=MINI_CORPUS), clock=Clock())
    with serve(app) as base:
        client = Client(base)
        assert client.login().status == 303
        meta = client.get("/api/meta")
        assert meta.json()["store"].startswith("PostgreSQL 127.0.0.1:")
        listing = client.get("/api/conversations")
        assert listing.status == 503
        assert "cannot read the tracker store" in listing.json()["error"]
        for response in (meta, listing):
            assert SECRET not in response.text
