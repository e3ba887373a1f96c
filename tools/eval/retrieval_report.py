"""Pictures of the retrieval evaluation (`make eval`): what the tables cannot show at a glance.

- accuracy@1 per language, dev set next to the held-out set (overfitting to dev shows);
- the organisation confusion matrix: which organisation is named instead of which;
- the threshold curve used for calibration: answered share and accuracy against the threshold,
  with the calibrated and the configured threshold marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tools.eval.retrieval import Outcome, Report, calibrate, redirect_ok
from tools.reports import charts
from tools.reports.page import ReportPage

NONE = "(none)"  # no organisation named: out of scope, or below the threshold
LANGUAGE_ORDER = ["en", "fi", "sv", "ru", "uk", "ar", "fa", "so", "et", "zh", "es", "de", "fr"]


def accuracy_by_language(reports: dict[str, Report]) -> tuple[list[str], dict[str, list[float]]]:
    """Languages (in the usual order, then any other) and each set's acc@1 per language."""
    present = {o.question.lang for r in reports.values() for o in r.outcomes}
    langs = [x for x in LANGUAGE_ORDER if x in present] + sorted(present - set(LANGUAGE_ORDER))
    series = {
        name: [
            report.rows(o for o in report.outcomes if o.question.lang == lang)["acc@1"]
            for lang in langs
        ]
        for name, report in reports.items()
    }
    return langs, series


def organisation_pairs(report: Report) -> tuple[list[str], list[str]]:
    """(expected, named) per in-scope and out-of-scope question; redirect questions left out.

    Expected is the organisation named when it is one of the expected ones, else the first
    expected one; named is the top organisation when its confidence reaches the threshold.
    """
    gold, named = [], []
    for outcome in report.outcomes:
        question = outcome.question
        if "redirect" in question.tags:
            continue
        top = outcome.ranking[0] if outcome.ranking else NONE
        answer = top if outcome.confidence >= report.threshold else NONE
        if question.orgs:
            gold.append(answer if answer in question.orgs else question.orgs[0])
        else:
            gold.append(NONE)
        named.append(answer)
    return gold, named


def threshold_curves(outcomes: list[Outcome], thresholds: np.ndarray) -> dict[str, list[float]]:
    """At each threshold: in-scope answered share, accuracy of those answered, decisions right."""
    scoped = [o for o in outcomes if o.question.orgs]
    curves: dict[str, list[float]] = {"answered (in scope)": [], "right among answered": []}
    curves["right decisions (all)"] = []
    for t in thresholds:
        answered = [o for o in scoped if o.confidence >= t]
        right = [o for o in answered if o.ranking[:1] and o.ranking[0] in o.question.orgs]
        curves["answered (in scope)"].append(len(answered) / len(scoped) if scoped else np.nan)
        curves["right among answered"].append(len(right) / len(answered) if answered else np.nan)
        decisions = [
            (o.confidence >= t and bool(o.ranking[:1]) and o.ranking[0] in o.question.orgs)
            if o.question.orgs
            else redirect_ok(o, t)
            if "redirect" in o.question.tags
            else o.confidence < t
            for o in outcomes
        ]
        curves["right decisions (all)"].append(float(np.mean(decisions)))
    return curves


def write_pictures(dev: Report, holdout: Report | None, reports_dir: Path) -> Path:
    """The three pictures for one search configuration; the HTML page's path."""
    page = ReportPage.create("eval", reports_dir, f"Retrieval evaluation: {dev.name}")
    sets = {"dev": dev, **({"held-out": holdout} if holdout else {})}
    langs, series = accuracy_by_language(sets)
    charts.grouped_bars(
        page.figure("accuracy_by_language", "Accuracy@1 per language"),
        langs,
        series,
        f"{dev.name}: accuracy@1 of in-scope questions",
        "accuracy@1",
    )
    gold, named = organisation_pairs(dev)
    charts.confusion_matrix(
        page.figure(
            "organisation_confusion",
            "Organisation confusion matrix (dev set)",
            f"expected organisation (rows) against the one named; {NONE}: out of scope or "
            "below the threshold; police/Traficom redirect questions are left out",
        ),
        gold,
        named,
        f"{dev.name}: {len(gold)} dev questions",
    )
    confidences = [o.confidence for o in dev.outcomes]
    low, high = min(confidences), max(confidences)
    thresholds = np.linspace(low, high, 120) if high > low else np.array([low])
    chosen = calibrate(dev.outcomes)
    charts.threshold_curve(
        page.figure(
            "threshold_curve",
            "Threshold calibration (dev set)",
            "the calibrated threshold maximises the right decisions: answer right in scope, "
            "abstain out of scope, redirect or abstain for police/Traficom questions",
        ),
        list(thresholds),
        threshold_curves(dev.outcomes, thresholds),
        {"calibrated": chosen, "configured": dev.threshold},
        f"{dev.name}: answered share and accuracy against the threshold",
    )
    return page.write()
