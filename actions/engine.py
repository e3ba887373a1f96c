"""The process-wide search engine: loaded once at action-server start-up, shared by actions."""

from __future__ import annotations

from functools import lru_cache

from embeddings.search import SearchEngine
from opastin.config import settings


@lru_cache(maxsize=1)
def get_engine() -> SearchEngine:
    return SearchEngine.from_settings(settings())
