"""The corpus schema: a valid corpus loads; every kind of mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.__main__ import main as knowledge_cli
from knowledge.loader import CORPUS_DIR, CorpusError, corpus_hash, load_corpus
from knowledge.schema import ORGANISATION_IDS
from tests.conftest import MINI_CORPUS


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in {path}")


def problems(directory: Path) -> list[str]:
    with pytest.raises(CorpusError) as info:
        load_corpus(directory)
    return [str(p) for p in info.value.problems]


def test_fixture_corpus_loads():
    corpus = load_corpus(MINI_CORPUS)
    assert set(corpus.organisations) == {"vero", "dvv", "migri", "employment_services", "ihh"}
    assert corpus.services["vero.tax_card"].title["fi"] == "Verokortti"
    assert corpus.organisation_of("vero.tax_card").id == "vero"


def test_missing_language_names_file_line_and_field(corpus_copy: Path):
    path = corpus_copy / "vero.yaml"
    replace(
        path,
        "title: {en: Tax card, fi: Verokortti, sv: Skattekort}",
        "title: {en: Tax card, fi: Verokortti}",
    )
    [problem] = problems(corpus_copy)
    assert problem.startswith(f"{path}:{line_of(path, 'title: {en: Tax card')}: ")
    assert "services[vero.tax_card].title" in problem
    assert "missing language(s): sv" in problem


def test_empty_text_is_an_error(corpus_copy: Path):
    path = corpus_copy / "dvv.yaml"
    replace(path, "summary: {en: Population register.,", 'summary: {en: "  ",')
    [problem] = problems(corpus_copy)
    assert f"{path}:{line_of(path, 'summary:')}: summary" in problem
    assert "empty text for language 'en'" in problem


def test_unknown_organisation_id(corpus_copy: Path):
    path = corpus_copy / "vero.yaml"
    path.rename(corpus_copy / "taxman.yaml")
    path = corpus_copy / "taxman.yaml"
    replace(path, "id: vero\n", "id: taxman\n")
    found = problems(corpus_copy)
    assert any("unknown organisation id 'taxman'" in p and str(path) in p for p in found)


def test_file_name_must_match_id(corpus_copy: Path):
    replace(corpus_copy / "dvv.yaml", "id: dvv\n", "id: kela\n")
    found = problems(corpus_copy)
    assert any("dvv.yaml:1: id: must equal the file name 'dvv'" in p for p in found)


def test_duplicate_service_id(corpus_copy: Path):
    path = corpus_copy / "dvv.yaml"
    text = path.read_text()
    block = text[text.index("  - id: dvv.registration") :]
    path.write_text(text + block)  # the same service twice
    found = problems(corpus_copy)
    second = text.count("\n") + 1
    assert any(f"{path}:{second}: services[dvv.registration].id: duplicate" in p for p in found)


def test_dead_related_reference(corpus_copy: Path):
    path = corpus_copy / "vero.yaml"
    replace(path, "related: [dvv.registration]", "related: [dvv.no_such_service]")
    [problem] = problems(corpus_copy)
    assert f"{path}:{line_of(path, 'related:')}" in problem
    assert "unknown service id 'dvv.no_such_service'" in problem


def test_invalid_yaml_names_the_line(corpus_copy: Path):
    path = corpus_copy / "migri.yaml"
    replace(path, "at_ihh: unverified\nsources:", "at_ihh: [unverified\nsources:")
    [problem] = problems(corpus_copy)
    assert str(path) in problem and "not valid YAML" in problem


def test_unknown_field_and_bad_value(corpus_copy: Path):
    path = corpus_copy / "vero.yaml"
    replace(
        path, "    channels: [online, walk_in]", "    channels: [online, pigeon]\n    fee: 50 EUR"
    )
    found = problems(corpus_copy)
    assert any(
        f"{path}:{line_of(path, 'pigeon')}: services[vero.tax_card].channels[1]" in p for p in found
    )
    assert any(f"{path}:{line_of(path, 'fee:')}: services[vero.tax_card].fee" in p for p in found)


def test_hash_changes_with_content(corpus_copy: Path):
    before = corpus_hash(corpus_copy)
    replace(corpus_copy / "vero.yaml", "Taxes.", "Taxes and tax cards.")
    assert corpus_hash(corpus_copy) != before


def test_cli_validate_exit_codes(corpus_copy: Path, capsys: pytest.CaptureFixture[str]):
    assert knowledge_cli(["validate", "--dir", str(corpus_copy)]) == 0
    replace(corpus_copy / "vero.yaml", "fi: Verokortti, ", "")
    assert knowledge_cli(["validate", "--dir", str(corpus_copy)]) == 1
    assert "missing language(s): fi" in capsys.readouterr().err


def test_real_corpus_is_valid_and_covers_every_organisation():
    corpus = load_corpus(CORPUS_DIR)
    assert set(ORGANISATION_IDS) <= set(corpus.organisations)
    assert len(corpus.services) >= 80
