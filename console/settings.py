"""Console settings: CONSOLE_* environment variables, validated at start-up.

They use their own prefix because opastin.config refuses unknown OPASTIN_* variables, and the
console shares an environment with the Rasa and action servers. The Rasa address, API token and
the SQLite tracker path default to the project's own settings (OPASTIN_*), so one .env serves all.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from console.pseudonyms import MIN_KEY
from console.roles import Role, parse_roles
from console.store import tracker_url
from opastin.config import ROOT, Settings, load_from_env

ENV_PREFIX = "CONSOLE_"


class ConsoleSettings(BaseModel):
    """The console's settings; see docs/console.md for each."""

    # A bad value never appears in errors: the tracker URL may hold a password.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    host: str = Field("127.0.0.1", description="interface the console listens on")
    port: int = Field(8100, ge=1, le=65535, description="console port")
    accounts_file: Path = Field(
        ROOT / "var" / "console-accounts.txt",
        description="staff accounts, one `name:hash` a line (python -m console add-user)",
    )
    accounts: str = Field(
        "", description="more accounts inline, `name:hash` separated by whitespace or commas"
    )
    session_idle_minutes: float = Field(30, gt=0, description="a session ends after this idle")
    session_max_hours: float = Field(8, gt=0, description="and at the latest after this long")
    secure_cookie: bool = Field(False, description="mark the cookie Secure (serve over HTTPS)")
    trusted_proxies: str = Field(
        "",
        description="addresses of reverse proxies (comma-separated) whose X-Forwarded-For "
        "names the client, for login throttling per address",
    )
    rasa_url: str = Field("", description="Rasa server; empty = http://OPASTIN_HOST:RASA_PORT")
    rasa_token: str = Field("", description="Rasa HTTP API token; empty = OPASTIN_RASA_API_TOKEN")
    tracker_url: str = Field(
        "",
        description="tracker store: a SQLite path, or an SQLAlchemy URL as Rasa's SQL tracker "
        "store takes (postgresql://user:pw@host:port/db...); empty = OPASTIN_TRACKER_DB",
    )
    state_db: Path = Field(
        ROOT / "var" / "console.db", description="the console's own data (corrections)"
    )
    stories_dir: Path = Field(
        ROOT / "bot" / "tests" / "exported", description="where exported test stories go"
    )
    nlu_dir: Path = Field(
        ROOT / "bot" / "data" / "nlu" / "reviewed",
        description="where corrected user messages go as NLU training examples",
    )
    questions_dir: Path = Field(
        ROOT / "tests" / "data" / "reviewed",
        description="where questions with a corrected organisation go (dev-set format)",
    )
    retention_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="delete conversations idle for longer than this many days (docs/privacy.md)",
    )
    sender_key: str = Field(
        "",
        description="secret for the keyed hash of sender ids (32+ characters); "
        "empty = the key in sender_key_file",
    )
    sender_key_file: Path = Field(
        ROOT / "var" / "console-sender.key",
        description="where the sender-id key is kept (made on first use, mode 600)",
    )
    timezone: str = Field("Europe/Helsinki", description="for days in lists and charts")
    roles: str = Field(
        "", description="roles inline, `name:role` (viewer, annotator, admin), comma separated"
    )
    default_role: str = Field("viewer", description="the role of an account given none")
    low_confidence: float = Field(
        0.7, ge=0, le=1, description="the inbox's low-confidence filter: intent confidence below"
    )
    annotated_nlu_dir: Path = Field(
        ROOT / "bot" / "data" / "nlu" / "annotated",
        description="where inbox annotations go as NLU examples, one <lang>.yml per language",
    )
    annotated_questions: Path = Field(
        ROOT / "evaluation" / "annotated.yaml",
        description="where inbox annotations go as labelled questions (make eval reads them)",
    )

    suggestions_dir: Path = Field(
        ROOT / "var" / "suggestions",
        description="where knowledge suggestions are written as patches (one NNNN.patch each)",
    )
    guest_link_max_days: int = Field(
        30, ge=1, le=365, description="the longest a guest tester link may stay open"
    )
    guest_messages_per_minute: int = Field(
        60, ge=1, le=10000, description="messages a minute through one guest link, all guests"
    )

    models_dir: Path = Field(
        ROOT / "var" / "console-models",
        description="models trained in the console, with their indexes (the last 5 published)",
    )
    eval_dev: str = Field(
        "evaluation/dev_questions.yaml evaluation/dev_journey.yaml",
        description="labelled questions of the dev columns (space separated, from the project)",
    )
    eval_holdout: str = Field(
        "evaluation/holdout_questions.yaml evaluation/holdout_journey.yaml",
        description="labelled questions of the held-out columns",
    )
    eval_nlu: str = Field(
        "bot/tests",
        description="labelled messages for NLU accuracy: Rasa NLU files or conversation tests",
    )

    @field_validator("eval_dev", "eval_holdout", "eval_nlu")
    @classmethod
    def _existing_files(cls, value: str) -> str:
        """Every evaluation file or folder must exist, or the start stops naming it."""
        if not value.split():
            raise ValueError("at least one file")
        for path in evaluation_paths(value):
            if not path.exists():
                raise ValueError(f"{path} does not exist")
        return value

    def evaluation_sets(self) -> dict[str, list[Path]]:
        """The dev, held-out and NLU evaluation files as paths."""
        return {
            "dev": evaluation_paths(self.eval_dev),
            "holdout": evaluation_paths(self.eval_holdout),
            "nlu": evaluation_paths(self.eval_nlu),
        }

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: str) -> str:
        parse_roles(value)  # a ValueError names the bad entry
        return value

    @field_validator("default_role")
    @classmethod
    def _default_role(cls, value: str) -> str:
        return Role.parse(value).label

    @field_validator("tracker_url")
    @classmethod
    def _parseable_tracker_url(cls, value: str) -> str:
        """A URL that does not parse stops the start, with a reason and without the value."""
        if value:
            tracker_url(value)
        return value

    @field_validator("sender_key")
    @classmethod
    def _long_enough(cls, key: str) -> str:
        if key and len(key) < MIN_KEY:
            raise ValueError(f"at least {MIN_KEY} characters (or empty for the key file)")
        return key

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ConsoleSettings:
        """Read CONSOLE_* variables; stop with a message on an unknown or invalid one."""
        return load_from_env(cls, ENV_PREFIX, environ)

    def resolved_rasa_url(self, project: Settings) -> str:
        return (self.rasa_url or f"http://{project.host}:{project.rasa_port}").rstrip("/")

    def resolved_rasa_token(self, project: Settings) -> str:
        return self.rasa_token or project.rasa_api_token

    def resolved_tracker_url(self, project: Settings) -> str:
        return self.tracker_url or str(project.tracker_path)


def evaluation_paths(value: str) -> list[Path]:
    """Space-separated paths, relative ones from the project's root."""
    return [ROOT / part for part in value.split()]  # an absolute part stays absolute
