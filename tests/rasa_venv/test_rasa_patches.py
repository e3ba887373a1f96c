"""Rasa's training-time checks accept the replaced methods as they accept Rasa's own."""

from __future__ import annotations

import inspect
import typing

import components  # noqa: F401  (installs the replacements, as in the Rasa server)
import policies  # noqa: F401
import pytest
import rasa.engine.validation
from rasa.core.actions.action import RemoteAction
from rasa.engine.recipes.recipe import Recipe
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.data import TrainingType
from rasa.shared.importers.importer import TrainingDataImporter

from opastin.stack import BOT_DIR

REPLACED = [
    (LogisticRegressionClassifier, "process"),
    (DialogueStateTracker, "past_states"),
    (DaskGraphRunner, "run"),
    (RemoteAction, "_validate_action_result"),
]


@pytest.mark.parametrize(("owner", "name"), REPLACED)
def test_a_replacement_shows_the_originals_signature_and_hints(owner: type, name: str) -> None:
    replaced = getattr(owner, name)
    original = replaced.__wrapped__
    assert replaced is not original
    assert inspect.signature(replaced) == inspect.signature(original)
    assert typing.get_type_hints(replaced) == typing.get_type_hints(original)


def test_rasa_train_validates_the_projects_pipeline_with_the_replacements() -> None:
    """What `rasa train` checks before training (rasa/model_training.py): it refused the
    classifier when its replaced `process` showed the wrapper's own signature."""
    importer = TrainingDataImporter.load_from_config(
        str(BOT_DIR / "config.yml"), str(BOT_DIR / "domain.yml"), [str(BOT_DIR / "data")]
    )
    config = importer.get_config()
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    config, _, _ = recipe.auto_configure(
        importer.get_config_file_for_auto_config(), config, TrainingType.BOTH
    )
    model_configuration = recipe.graph_config_for_recipe(config, {}, TrainingType.BOTH)
    rasa.engine.validation.validate(model_configuration)


def test_replace_once_wraps_a_decorated_method_once() -> None:
    """A method that already carries `__wrapped__` (a @contextmanager, as Rasa's
    SQLTrackerStore.session_scope) is still replaced, and only once."""
    import contextlib

    from rasa_patches import replace_once

    class Store:
        @contextlib.contextmanager
        def session_scope(self) -> typing.Iterator[str]:
            yield "rasa's"

    original = Store.session_scope
    assert hasattr(original, "__wrapped__")

    def wrap(inner: typing.Any) -> typing.Any:
        def session_scope(self: Store) -> typing.Any:
            return inner(self)

        return session_scope

    assert replace_once(Store, "session_scope", wrap)
    assert Store.session_scope is not original and Store.session_scope.__wrapped__ is original
    assert not replace_once(Store, "session_scope", wrap)
    with Store().session_scope() as value:
        assert value == "rasa's"
