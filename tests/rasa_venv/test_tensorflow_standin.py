"""TensorFlow kept out of `rasa run` (bot/tensorflow_standin.py, server_model_load.py,
sitecustomize.py): what the stand-in serves, how it refuses, and the switch.

The fast tests use a finder of their own and never install it in this process (which has the
real TensorFlow); the slow one starts a Python as `rasa run` gets it and imports what the server
imports, then loads model metadata as the server does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from types import ModuleType

import pytest
import tensorflow_standin
from components.skops_import import _ModuleIndex
from server_model_load import DeferredSchema, deferring_train_schema, stand_in_miss
from tensorflow_standin import MissingInStandIn, StandInFinder, TensorFlowKeptOut

from opastin.stack import BOT_DIR, TENSORFLOW_STANDIN_ENV


def stand_in(name: str) -> ModuleType:
    """The stand-in module `name` as the finder makes it, not put into sys.modules."""
    finder = StandInFinder()
    spec = finder.find_spec(name)
    assert spec is not None
    return finder.create_module(spec)


def test_the_served_base_classes_can_be_subclassed_but_not_instantiated() -> None:
    callback = stand_in("tensorflow.keras.callbacks").Callback
    sequence = stand_in("tensorflow.keras.utils").Sequence

    class Checkpoint(callback):  # as rasa.utils.tensorflow.callback does at import
        def __init__(self) -> None:
            super().__init__()

    assert issubclass(Checkpoint, callback) and isinstance(sequence, type)
    with pytest.raises(TensorFlowKeptOut, match=r"Checkpoint \(a tensorflow.keras.callbacks"):
        Checkpoint()
    with pytest.raises(SystemExit, match="OPASTIN_RASA_WITHOUT_TENSORFLOW=false"):
        sequence()


def test_any_other_tensorflow_module_is_refused_by_name() -> None:
    finder = StandInFinder()
    assert finder.find_spec("tensorflow_hub") is None and finder.find_spec("numpy") is None
    for name in ("tensorflow.compat", "tensorflow.python.framework", "tensorflow.config"):
        with pytest.raises(TensorFlowKeptOut, match=f"the module {name} needs TensorFlow"):
            finder.find_spec(name)


def test_a_missing_attribute_is_explained_and_still_an_attribute_error() -> None:
    """Real uses read the explanation; probes that scan sys.modules read "not here"."""
    tf = stand_in("tensorflow")
    with pytest.raises(MissingInStandIn, match=r"tensorflow\.constant needs TensorFlow.*kept out"):
        tf.constant(1)
    assert getattr(tf, "Tensor", None) is None and not hasattr(tf, "__file__")
    assert issubclass(MissingInStandIn, AttributeError)
    assert not issubclass(TensorFlowKeptOut, Exception), "Rasa's load_agent catches Exception"


@pytest.mark.slow  # two scans of this process's ~5,000 modules: ~3 s
def test_skops_module_scan_passes_over_the_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the model scans every module for numpy's ufuncs (components/skops_import.py);
    the first try of this stand-in refused there."""
    import numpy

    index = _ModuleIndex()
    index.rebuild()
    expected = index.lookup(numpy.add, "add")
    monkeypatch.setitem(sys.modules, "a_tensorflow_stand_in", stand_in("tensorflow"))
    index.rebuild()
    assert index.lookup(numpy.add, "add") == expected is not None


def test_install_refuses_when_the_real_tensorflow_is_already_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tensorflow", ModuleType("tensorflow"))
    before = list(sys.meta_path)
    with pytest.raises(TensorFlowKeptOut, match="after tensorflow was imported"):
        tensorflow_standin.install()
    assert sys.meta_path == before


def test_the_training_graph_is_deserialised_only_when_used() -> None:
    calls: list[dict] = []

    def original(serialized: dict) -> object:
        calls.append(serialized)
        return type("Metadata", (), {"train_schema": None})()

    unknown = {"nodes": {"x": {"uses": "no_such_module.Component"}}}
    serialized = {"train_schema": unknown, "predict_schema": {"nodes": {}}}
    metadata = deferring_train_schema(original)(serialized)
    assert calls == [{"train_schema": {"nodes": {}}, "predict_schema": {"nodes": {}}}]
    assert isinstance(metadata.train_schema, DeferredSchema)
    with pytest.raises(Exception, match=r"no_such_module\.Component"):
        metadata.train_schema.nodes  # noqa: B018 - reading it deserialises, here: fails


def test_a_miss_is_found_in_the_chain_of_causes() -> None:
    miss = MissingInStandIn("tensorflow.keras.layers")
    try:
        try:
            raise miss
        except AttributeError as error:
            raise ImportError("wrapped") from error
    except ImportError as wrapped:
        assert stand_in_miss(wrapped) is miss
    assert stand_in_miss(ValueError("other")) is None


def bot_python(code: str, switch: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    """A Python of the Rasa venv as Stack starts Rasa: bot/ on the path, the switch set."""
    env = {**os.environ, "PYTHONPATH": str(BOT_DIR), TENSORFLOW_STANDIN_ENV: switch}
    env.update(OPASTIN_ACTION_ENDPOINT="http://127.0.0.1:9/webhook", PYTHONWARNINGS="ignore")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=BOT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow  # three fresh interpreters of the Rasa venv: ~2 s
def test_the_switch_installs_only_when_on_and_stops_on_a_typo() -> None:
    probe = "import sys; print(any(type(f).__name__ == 'StandInFinder' for f in sys.meta_path))"
    assert bot_python(probe, "1").stdout == "True\n"
    assert bot_python(probe, "0").stdout == "False\n"
    typo = bot_python(probe, "yes")
    assert typo.returncode != 0 and "must be 1, 0 or unset, not 'yes'" in typo.stderr


NODE = {
    "needs": {},
    "constructor_name": "create",
    "fn": "process",
    "config": {},
    "eager": True,
    "is_target": False,
    "is_input": False,
    "resource": None,
}
VALIDATOR = "rasa.graph_components.validators.default_recipe_validator.DefaultV1RecipeValidator"
DIET = "rasa.nlu.classifiers.diet_classifier.DIETClassifier"
TOKENIZER = "rasa.nlu.tokenizers.whitespace_tokenizer.WhitespaceTokenizer"

SERVER_PROBE = """
import json, sys
import rasa.__main__, rasa.core.run, rasa.server
from rasa.core.agent import Agent
from rasa.engine.storage.storage import ModelMetadata

def metadata(train, predict):
    node = NODE
    return {
        "trained_at": "2026-11-30T12:00:00", "rasa_open_source_version": "3.6.21",
        "model_id": "probe", "assistant_id": "probe", "domain": {},
        "train_schema": {"nodes": {"v": {**node, "uses": train}}},
        "predict_schema": {"nodes": {"c": {**node, "uses": predict}}},
        "training_type": 3, "project_fingerprint": "x", "core_target": None,
        "nlu_target": "c", "language": "en",
    }

result = {
    "stand_in": type(sys.modules["tensorflow"]).__name__,
    "real": sorted(
        name for name, module in sys.modules.items()
        if name.split(".")[0] in ("tensorflow", "keras", "jax")
        and type(module).__name__ != "StandInModule"
    ),
}
loaded = ModelMetadata.from_dict(metadata(VALIDATOR, TOKENIZER))
result["predict"] = [n.uses.__name__ for n in loaded.predict_schema.nodes.values()]
result["diet_imported"] = "rasa.nlu.classifiers.diet_classifier" in sys.modules
for name, use in (("train_schema_used", lambda: loaded.train_schema.nodes),
                  ("diet_model", lambda: ModelMetadata.from_dict(metadata(VALIDATOR, DIET)))):
    try:
        use()
        result[name] = "loaded"
    except SystemExit as refused:
        result[name] = str(refused)
print(json.dumps(result))
"""


@pytest.mark.slow  # a fresh interpreter importing what `rasa run` imports: 7-17 s
def test_the_server_imports_no_tensorflow_and_refuses_a_model_that_needs_it() -> None:
    constants = (
        f"NODE, VALIDATOR, DIET, TOKENIZER = {NODE!r}, {VALIDATOR!r}, {DIET!r}, {TOKENIZER!r}"
    )
    done = bot_python(constants + SERVER_PROBE, "1", timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["stand_in"] == "StandInModule" and result["real"] == []
    assert result["predict"] == ["WhitespaceTokenizer"] and not result["diet_imported"]
    for refused in (result["train_schema_used"], result["diet_model"]):
        assert "needs TensorFlow" in refused and "OPASTIN_RASA_WITHOUT_TENSORFLOW" in refused
    assert f"component {DIET} (node c; it asked for the module tensorflow." in result["diet_model"]
