"""Models in the console without servers: labelled sets, scores and floors, the history of
published models (the last 5 kept, with rollback targets), and the publish checks.

The real training, evaluation, publish and rollback against running Rasa and action servers
are in test_models_e2e.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from console.model_history import KEEP, ModelEntry, ModelHistory
from console.settings import ConsoleSettings
from tools.eval.candidate import EvaluationError, below_floors, labelled_messages, nlu_scores
from tools.eval.nlu import NLU_ACCURACY_FLOOR


def entry(history: ModelHistory, model_id: str, published: float | None = None) -> ModelEntry:
    folder = history.folder / model_id
    (folder / "index").mkdir(parents=True)
    (folder / "model.tar.gz").write_bytes(b"model")
    return ModelEntry(
        model_id, folder / "model.tar.gz", folder / "index", None, "maija", time.time(),
        "maija" if published else None, published,
    )  # fmt: skip


def test_labelled_messages_from_nlu_files_and_conversation_tests(tmp_path: Path):
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: tax_card\n  examples: |\n    - I need a tax card\n'
        "    - tax card for [Espoo](municipality)\n- synonym: espoo\n  examples: |\n    - Esbo\n"
    )
    (tmp_path / "stories.yml").write_text(
        'version: "3.1"\nstories:\n- story: s\n  steps:\n  - user: |\n      hello there\n'
        "    intent: greet\n  - action: utter_greet\n"
    )
    assert labelled_messages([tmp_path / "nlu.yml", tmp_path / "stories.yml"]) == [
        {"text": "I need a tax card", "intent": "tax_card"},
        {"text": "tax card for Espoo", "intent": "tax_card"},
        {"text": "hello there", "intent": "greet"},
    ]
    assert len(labelled_messages([tmp_path])) == 3  # a folder: its .yml files


def test_an_unlabelled_or_broken_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "empty.yml").write_text("version: '3.1'\n")
    with pytest.raises(EvaluationError, match="no labelled messages"):
        labelled_messages([tmp_path / "empty.yml"])
    (tmp_path / "broken.yml").write_text("nlu: [")
    with pytest.raises(EvaluationError, match=r"broken\.yml"):
        labelled_messages([tmp_path / "broken.yml"])


def test_nlu_scores_count_a_fallback_as_a_miss():
    rows = [
        {"intent": "greet", "predicted": "greet"},
        {"intent": "greet", "predicted": "nlu_fallback"},
        {"intent": "bye", "predicted": "greet"},
        {"intent": "bye", "predicted": "bye"},
    ]
    assert nlu_scores(rows) == {"n": 4, "accuracy": 0.5, "fallback": 0.25}


def test_below_floors_names_each_language_target_and_the_nlu_floor():
    languages = [
        {"language": "fi", "below": ["dev acc@1"]},
        {"language": "ALL", "below": []},
    ]
    assert below_floors(languages, {"accuracy": NLU_ACCURACY_FLOOR}) == ["fi: dev acc@1"]
    missed = below_floors([{"language": "ALL", "below": []}], {"accuracy": 0.5})
    assert missed == [f"NLU accuracy 0.500 < {NLU_ACCURACY_FLOOR}"]


def test_history_keeps_the_last_published_models_and_deletes_older_folders(tmp_path: Path):
    history = ModelHistory(tmp_path / "console.db", tmp_path / "models")
    outside = tmp_path / "var-models" / "opastin-1.tar.gz"  # the model the bot started with
    outside.parent.mkdir()
    outside.write_bytes(b"model")
    first = ModelEntry("running-1", outside, tmp_path / "models" / "running-1" / "index", None,
                       "(not trained in the console)", 1.0, "(running before)", 1.0)  # fmt: skip
    (tmp_path / "models" / "running-1" / "index").mkdir(parents=True)
    history.add(first)
    for i in range(KEEP):
        history.add(entry(history, f"m{i}"))
        history.mark_published(f"m{i}", "maija", when=10.0 + i)
    assert [e.id for e in history.published()] == ["m4", "m3", "m2", "m1", "m0"]
    assert history.running().id == "m4"
    assert not (tmp_path / "models" / "running-1").exists()
    assert outside.exists(), "a model file the console did not train is never deleted"
    history.mark_published("m1", "pekka", when=20.0)  # a rollback
    assert [e.id for e in history.published()][:2] == ["m1", "m4"]
    assert history.get("m1").published_by == "pekka"


def test_a_new_candidate_replaces_the_unpublished_one(tmp_path: Path):
    history = ModelHistory(tmp_path / "console.db", tmp_path / "models")
    history.add(entry(history, "a"))
    history.set_evaluation("a", {"below": []})
    assert history.candidate().evaluation == {"below": []}
    history.add(entry(history, "b"))
    assert history.candidate().id == "b" and history.get("a") is None
    assert not (tmp_path / "models" / "a").exists()


def test_publishing_a_candidate_below_the_floors_is_refused(console):
    """Refused before Rasa is asked: the console's Rasa address has nothing listening, so
    getting that far would be a 502."""
    models = _models(console)
    candidate = entry(models, "cand")
    models.add(candidate)
    models.set_evaluation("cand", {"below": ["ALL: held-out acc@1"], "languages": [], "nlu": {}})
    client = console.logged_in()
    response = client.post("/api/models/cand/publish")
    assert response.status == 409
    assert "below the floors: ALL: held-out acc@1" in response.json()["error"]
    assert models.get("cand").published_at is None
    assert client.post("/api/models/nope/publish").status == 404


def test_a_candidate_without_evaluation_is_not_published(console):
    models = _models(console)
    models.add(entry(models, "fresh"))
    response = console.logged_in().post("/api/models/fresh/publish")
    assert response.status == 409 and "no evaluation" in response.json()["error"]


def test_publishing_a_candidate_above_the_floors_asks_rasa(console):
    """Above the floors the console goes on to Rasa's API (here unreachable: 502, and the
    candidate stays unpublished)."""
    models = _models(console)
    models.add(entry(models, "good"))
    models.set_evaluation("good", {"below": [], "languages": [], "nlu": {}})
    response = console.logged_in().post("/api/models/good/publish")
    assert response.status == 502 and "not reachable" in response.json()["error"]
    assert models.get("good").published_at is None


def test_evaluation_sets_must_exist(tmp_path: Path):
    with pytest.raises(ValidationError, match="does not exist"):
        ConsoleSettings(eval_nlu=str(tmp_path / "missing.yml"))
    settings = ConsoleSettings(eval_dev=str(tmp_path))
    assert settings.evaluation_sets()["dev"] == [tmp_path]


def _models(console) -> ModelHistory:
    from console.context import CONSOLE

    return console.app[CONSOLE].models


def test_the_training_data_is_bot_data_plus_the_current_annotations(console, tmp_path: Path):
    """A candidate trains on a copy of bot/data with every current intent annotation as an
    NLU example (as Export annotations writes them); the working tree is left alone."""
    from console.context import CONSOLE
    from opastin.config import ROOT
    from tests.console.conftest import pseudonym

    client = console.logged_in()
    fallback = {"conversation": pseudonym("web-ccc"), "turn": 0}
    response = client.post(
        "/api/inbox/annotations", {"messages": [fallback], "intent": "tax_registration"}
    )
    assert response.status == 200, response.body
    trainer = console.app[CONSOLE].trainer
    staged = trainer._stage_data(tmp_path / "bot-data")
    bot_data = ROOT / "bot" / "data"
    copied = {p.relative_to(staged) for p in staged.rglob("*.yml")}
    assert {p.relative_to(bot_data) for p in bot_data.glob("nlu/*.yml")} <= copied
    annotated = staged / "nlu" / "annotated" / "en.yml"
    examples = yaml.safe_load(annotated.read_text())["nlu"]
    assert [b["intent"] for b in examples] == ["tax_registration"]
    assert "1 annotated NLU examples added" in trainer.job.lines
    assert not console.settings.annotated_nlu_dir.exists(), "training exports nothing itself"


def test_training_progress_moves_with_stages_and_trained_components(console):
    """The page's percentage: each stage's share, and within the training each component Rasa
    reports trained or restored from its cache."""
    from console.context import CONSOLE
    from opastin.config import ROOT

    trainer = console.app[CONSOLE].trainer
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text())
    components = len(config["pipeline"]) + len(config["policies"])
    assert trainer.components() == components
    trainer.job.enter("train model")
    assert trainer.job.percent == 2
    trainer._line("2026-11-30 INFO rasa.engine.training.hooks - Finished training component 'X'.")
    trainer._line("2026-11-30 INFO rasa.engine.training.hooks - Restored component 'Y' from cache.")
    assert trainer.job.percent == 2 + int(58 * 2 / components)
    trainer._line("@stage build index")
    assert (trainer.job.stage, trainer.job.percent) == ("build index", 60)
    assert trainer.job.lines[-1] == "== build index" and not any(
        line.startswith("@stage") for line in trainer.job.lines
    )
