"""The Rasa project itself: data validation and conversation tests, with Rasa's own tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from knowledge.vocabulary import vocabulary
from opastin.config import Settings
from opastin.stack import BOT_DIR, QUIET_ENV, RASA_BIN

ENV = {**QUIET_ENV, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(BOT_DIR)}


def rasa(*args: str, cwd: Path = BOT_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600
    )


def test_data_validates_without_warnings():
    result = rasa(
        "data",
        "validate",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--config",
        "config.yml",
        "--fail-on-warnings",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_conversation_stories_pass(rasa_model: Path, tmp_path: Path):
    """Every story in bot/tests passes: intents from the text, then the expected actions."""
    out = tmp_path / "results"
    result = rasa(
        "test",
        "core",
        "--model",
        str(rasa_model),
        "--stories",
        "tests",
        "--out",
        str(out),
        "--fail-on-prediction-errors",
    )
    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details or result.stdout[-4000:] + result.stderr[-4000:]
    report = yaml.safe_load((out / "story_report.json").read_text())
    total = sum(
        v["support"]
        for k, v in report.items()
        if isinstance(v, dict)
        and "support" in v
        and k not in ("micro avg", "macro avg", "weighted avg", "accuracy")
    )
    assert total > 0, "the stories were actually evaluated"
    assert Settings().models_dir in rasa_model.parents


def test_lookup_tables_follow_the_synonyms():
    """Each lookup table lists exactly the canonical values and synonyms of its entity."""
    nlu = BOT_DIR / "data" / "nlu"

    def items(block: dict) -> list[str]:
        return [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]

    lookups = {
        b["lookup"]: items(b) for b in yaml.safe_load((nlu / "lookups.yml").read_text())["nlu"]
    }
    synonyms = {
        b["synonym"]: items(b) for b in yaml.safe_load((nlu / "synonyms.yml").read_text())["nlu"]
    }
    entity_values = {
        "language": vocabulary().languages.requestable,
        "purpose": list(vocabulary().purposes),
    }
    assert set(lookups) == set(entity_values)
    for entity, values in entity_values.items():
        expected = set()
        for value in values:
            expected |= set(synonyms[value]) | ({value} if entity == "purpose" else set())
        assert set(lookups[entity]) == expected, entity
