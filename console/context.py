"""What every part of the console's web server shares: one `Console` per app, and its keys.

Handlers and middlewares reach the settings, accounts, sessions, tracker store, corrections and
the Rasa client through `request.app[CONSOLE]`; the logged-in session through `request[SESSION]`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from console.annotations import Annotations
from console.auth import Authenticator, LoginThrottle, Session, SessionStore
from console.conversations import ConversationIndex
from console.guests import GuestLinks
from console.inbox import Inbox
from console.model_history import ModelHistory
from console.project import Project
from console.pseudonyms import Pseudonyms
from console.rasa_client import RasaClient
from console.roles import RoleBook
from console.settings import ConsoleSettings
from console.state import ConsoleState
from console.store import TrackerStore
from console.suggestions import Suggestions
from console.tags import Tags
from console.training import Trainer
from opastin.config import ROOT, Settings

COOKIE = "opastin_console"  # the session cookie
LOGIN_COOKIE = "opastin_console_login"  # the login form's double-submit token


class Console:
    """Everything the handlers share: settings, accounts, sessions, the store and state."""

    def __init__(
        self,
        config: ConsoleSettings,
        project_settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        project: Project | None = None,
    ) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.auth = Authenticator(config.accounts_file, config.accounts)
        self.sessions = SessionStore(
            config.session_idle_minutes * 60,
            config.session_max_hours * 3600,
            clock,
            account_version=self.auth.version,  # removed account / new password: sessions end
        )
        self.throttle = LoginThrottle(clock=clock)
        self.store = TrackerStore(config.resolved_tracker_url(project_settings))
        self.pseudonyms = Pseudonyms.from_settings(config.sender_key, config.sender_key_file)
        self.index = ConversationIndex(self.store, self.pseudonyms)
        self.state = ConsoleState(config.state_db)
        self.roles = RoleBook(config.state_db, config.roles, config.default_role)
        self.inbox = Inbox(self.store, config.state_db)
        self.annotations = Annotations(config.state_db, self.state)
        self.tags = Tags(config.state_db)
        self.project = project or Project(corpus_dir=project_settings.corpus_dir)
        self.suggestions = Suggestions(
            config.state_db, config.suggestions_dir, self.project.corpus_dir
        )
        self.guests = GuestLinks(config.state_db, config.guest_messages_per_minute)
        self.rasa = RasaClient(
            config.resolved_rasa_url(project_settings),
            config.resolved_rasa_token(project_settings),
        )
        self.models = ModelHistory(config.state_db, config.models_dir)
        self.trainer = Trainer(
            config, project_settings, self.models, self.annotations, self.project, self.rasa
        )


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("console.session", Session)


def json_error(status: int, message: str) -> web.Response:
    """The one error shape of the JSON API: {"error": message}."""
    return web.json_response({"error": message}, status=status)


def page_params(query: Any) -> tuple[int, int]:
    """`limit` (1-200, default 50) and `offset` (>= 0) of a paged list; ValueError if not ints."""
    limit = min(max(int(query.get("limit", 50)), 1), 200)
    offset = max(int(query.get("offset", 0)), 0)
    return limit, offset


def project_relative(path: Path) -> str:
    """A written file's path as staff see it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
