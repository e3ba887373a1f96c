"""The topic map: it loads against the real corpus, and every mistake names file, line, field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.__main__ import main
from knowledge.audit import audit, months_before
from knowledge.loader import CorpusError, load_corpus
from knowledge.topics import coverage, load_topics

TITLE = '{en: "T", fi: "T", sv: "T"}'


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_project_topic_map_loads_and_names_every_service(corpus) -> None:
    topic_map = load_topics(corpus)
    report = coverage(topic_map, corpus)
    assert report.unmapped_services == [], "services that no topic names"
    assert len(report.lines) == sum(1 for _ in topic_map.walk())


def test_unknown_service_is_reported_with_line_and_field(corpus, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"topics:\n  - id: work\n    title: {TITLE}\n    children:\n"
        f"      - id: tax\n        title: {TITLE}\n        services:\n"
        "          - vero.tax_card\n          - vero.no_such_service\n",
    )
    with pytest.raises(CorpusError) as error:
        load_topics(corpus, path)
    (problem,) = error.value.problems
    assert (problem.line, problem.field) == (9, "topics[work].children[tax].services")
    assert "vero.no_such_service" in problem.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('topics:\n  - id: a\n    title: {en: "A"}\n', "missing title language(s): fi, sv"),
        (f"topics:\n  - id: a\n    title: {TITLE}\n  - id: a\n    title: {TITLE}\n", "duplicate"),
        (
            f"topics:\n  - id: a\n    title: {TITLE}\n    services: [vero.tax_card]\n"
            f"    children:\n      - id: b\n        title: {TITLE}\n",
            "a heading with children lists no services",
        ),
        (f"topics:\n  - id: A-b\n    title: {TITLE}\n", "should match pattern"),
        (f"topics:\n  - id: a\n    title: {TITLE}\n    colour: red\n", "Extra inputs"),
        ("topics: [\n", "not valid YAML"),
    ],
)
def test_malformed_maps_are_refused(corpus, tmp_path: Path, body: str, reason: str) -> None:
    with pytest.raises(CorpusError) as error:
        load_topics(corpus, write(tmp_path, body))
    assert any(reason in p.reason for p in error.value.problems), error.value
    assert all(p.file.name == "topics.yaml" and p.line >= 1 for p in error.value.problems)


def test_coverage_lists_leaves_without_services(corpus, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"topics:\n  - id: a\n    title: {TITLE}\n    children:\n"
        f"      - id: b\n        title: {TITLE}\n        services: [vero.tax_card]\n"
        f"      - id: c\n        title: {TITLE}\n",
    )
    report = coverage(load_topics(corpus, path), corpus)
    assert report.empty_leaves == ["c"]
    assert report.lines[0] == "T [a]: 1"
    assert "vero.tax_card" not in report.unmapped_services
    assert "kela.kela_card" in report.unmapped_services


def test_coverage_command_prints_the_tree(capsys) -> None:
    assert main(["coverage"]) == 0
    out = capsys.readouterr().out
    assert "Work and enterprise [work_and_enterprise]" in out
    assert "leaves without services" in out


def test_months_before_clamps_to_the_end_of_the_month() -> None:
    assert months_before(dt.date(2027, 3, 31), 1) == dt.date(2027, 2, 28)
    assert months_before(dt.date(2027, 1, 15), 12) == dt.date(2026, 1, 15)


def test_audit_lists_sources_older_than_the_interval(corpus) -> None:
    dates = [
        source.checked
        for org in corpus.organisations.values()
        for source in [*org.sources, *(s for svc in org.services for s in svc.sources)]
    ]
    assert audit(corpus, today=min(dates) + dt.timedelta(days=300)).due == []
    today = max(dates) + dt.timedelta(days=400)
    report = audit(corpus, today=today)
    cutoff = months_before(today, 12)
    assert len(report.due) == sum(d < cutoff for d in dates) == len(dates)
    assert report.sources == len(dates) == sum(report.checkers.values())
