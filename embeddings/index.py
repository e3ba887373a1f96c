"""Build and load the faiss index of corpus passages, with a manifest that says what it holds.

Files in the index folder: `index.faiss`, `passages.json`, `manifest.json`. Each is written
to a temporary name and moved into place, the manifest last, so a reader never sees a
half-written index and a failed build leaves the previous one untouched.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from embeddings.encoders import Encoder
from embeddings.passages import Passage, service_passages
from knowledge.loader import corpus_hash, load_corpus

MANIFEST = "manifest.json"
INDEX_FILE = "index.faiss"
PASSAGES_FILE = "passages.json"
FORMAT_VERSION = 1
BATCH = 64


class IndexError_(RuntimeError):
    """The index is missing, corrupt, or was built with another model."""


@dataclass(frozen=True)
class Manifest:
    format: int
    backend: str
    model: str
    dim: int
    kind: str
    corpus_hash: str
    built_at: str
    build_seconds: float
    passages: int
    services: int
    organisations: int

    @classmethod
    def read(cls, index_dir: Path) -> Manifest:
        path = index_dir / MANIFEST
        if not path.exists():
            raise IndexError_(
                f"no search index in {index_dir}. Build it with: make index "
                "(or .venvs/actions/bin/python -m embeddings build)"
            )
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError) as error:
            raise IndexError_(
                f"corrupt index manifest {path}: {error}. Rebuild with: make index"
            ) from error


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def make_faiss_index(vectors: np.ndarray, kind: str) -> faiss.Index:
    dim = vectors.shape[1]
    index: faiss.Index
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    else:
        raise ValueError(f"unknown index kind {kind!r}; use flat or hnsw")
    index.add(vectors)
    return index


def encode_passages(encoder: Encoder, texts: Sequence[str], progress: bool) -> np.ndarray:
    batches = range(0, len(texts), BATCH)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="encoding passages", unit="batch")
    parts = [encoder.encode_passages(texts[i : i + BATCH]) for i in batches]
    return np.vstack(parts).astype(np.float32) if parts else np.zeros((0, encoder.dim), "float32")


def is_current(index_dir: Path, corpus_dir: Path, backend: str, model: str, kind: str) -> bool:
    try:
        manifest = Manifest.read(index_dir)
    except IndexError_:
        return False
    return (
        manifest.format == FORMAT_VERSION
        and manifest.corpus_hash == corpus_hash(corpus_dir)
        and (manifest.backend, manifest.model, manifest.kind) == (backend, model, kind)
        and (index_dir / INDEX_FILE).exists()
    )


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    kind: str = "flat",
    progress: bool | None = None,
) -> Manifest:
    """Validate the corpus, embed its passages and write the index (the corpus is checked first)."""
    started = time.monotonic()
    corpus = load_corpus(corpus_dir)  # raises CorpusError before anything is written
    digest = corpus_hash(corpus_dir)
    passages = service_passages(corpus)
    texts = [p.text for p in passages]
    known = previous_vectors(index_dir, encoder)
    new = [t for t in dict.fromkeys(texts) if t not in known]
    if progress is None:
        progress = len(new) > 500
    if new:
        known.update(zip(new, encode_passages(encoder, new, progress), strict=True))
    vectors = np.vstack([known[t] for t in texts]).astype(np.float32)
    index = make_faiss_index(vectors, kind)
    manifest = Manifest(
        format=FORMAT_VERSION,
        backend=encoder.backend,
        model=encoder.model,
        dim=encoder.dim,
        kind=kind,
        corpus_hash=digest,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        build_seconds=round(time.monotonic() - started, 2),
        passages=len(passages),
        services=len(corpus.services),
        organisations=len(corpus.organisations),
    )
    index_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(index_dir / INDEX_FILE, faiss.serialize_index(index).tobytes())
    payload = [asdict(p) for p in passages]
    _write_atomic(index_dir / PASSAGES_FILE, json.dumps(payload, ensure_ascii=False).encode())
    _write_atomic(index_dir / MANIFEST, json.dumps(asdict(manifest), indent=2).encode())
    return manifest


def install_index(source: Path, target: Path) -> None:
    """Copy a built index into the folder a running action server reads (the staff console's
    publish and rollback): each file moved into place whole, the manifest last, so the server's
    hot reload (embeddings.search, on a new manifest) never reads a mixture."""
    Manifest.read(source)  # refuse a folder without a readable index before touching target
    target.mkdir(parents=True, exist_ok=True)
    for name in (INDEX_FILE, PASSAGES_FILE, MANIFEST):
        _write_atomic(target / name, (source / name).read_bytes())


def previous_vectors(index_dir: Path, encoder: Encoder) -> dict[str, np.ndarray]:
    """The vectors of the index being replaced, by passage text, when the same encoder made
    them: a rebuild after editing a few aliases encodes only the passages that changed
    (a full build of ~2,000 passages takes minutes of CPU). Anything unreadable: none."""
    try:
        loaded = load_index(index_dir, encoder.backend, encoder.model)
        vectors = loaded.index.reconstruct_n(0, loaded.index.ntotal)
    except (IndexError_, RuntimeError):
        return {}
    if vectors.shape[1] != encoder.dim:
        return {}
    return {p.text: vectors[i] for i, p in enumerate(loaded.passages)}


@dataclass(frozen=True)
class LoadedIndex:
    manifest: Manifest
    index: faiss.Index
    passages: list[Passage]


def load_index(index_dir: Path, backend: str, model: str) -> LoadedIndex:
    """Load the index; refuse one built with another encoder (its vectors would be meaningless)."""
    manifest = Manifest.read(index_dir)
    if (manifest.backend, manifest.model) != (backend, model):
        raise IndexError_(
            f"the index in {index_dir} was built with {manifest.backend} / {manifest.model}, "
            f"but the configured encoder is {backend} / {model}. Rebuild it with: make index"
        )
    try:
        raw = np.frombuffer((index_dir / INDEX_FILE).read_bytes(), dtype=np.uint8)
        index = faiss.deserialize_index(raw)
        passages = [Passage(**p) for p in json.loads((index_dir / PASSAGES_FILE).read_text())]
    except (OSError, RuntimeError, ValueError, TypeError) as error:
        raise IndexError_(
            f"corrupt index in {index_dir}: {error}. Rebuild with: make index"
        ) from error
    if index.ntotal != manifest.passages or len(passages) != manifest.passages:
        raise IndexError_(
            f"corrupt index in {index_dir}: manifest says {manifest.passages} passages, "
            f"index has {index.ntotal}, passages.json has {len(passages)}. Rebuild with: make index"
        )
    return LoadedIndex(manifest, index, passages)
