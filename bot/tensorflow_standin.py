"""Not TensorFlow: what `rasa run` needs of it when the model has no TensorFlow component.

Rasa 3.6's server imports TensorFlow whatever the pipeline (rasa.core.agent -> ... ->
rasa.nlu.extractors.extractor -> rasa.utils.train_utils -> rasa.utils.tensorflow.callback),
and TensorFlow alone is ~350 MB of a Rasa process's memory (docs/performance.md, "Fifth pass").
Our pipeline (bot/config.yml) has no TensorFlow component, and what the server's imports take
from TensorFlow is two base classes of training-only helpers:
- rasa.utils.tensorflow.callback: `class RasaTrainingLogger(tf.keras.callbacks.Callback)`,
  `class RasaModelCheckpoint(tf.keras.callbacks.Callback)`;
- rasa.utils.tensorflow.data_generator: `from tensorflow.keras.utils import Sequence`.
(rasa.utils.tensorflow.environment imports `tensorflow.config` only when TF_INTER_OP_... /
TF_GPU_MEMORY_ALLOC are set; then this stand-in refuses, as for any other use.)

`install()` puts a finder first on sys.meta_path that serves these modules instead of the real
ones. Their placeholder classes can be subclassed but not instantiated. Importing any other
TensorFlow module (as Keras, tensorflow_addons and every TensorFlow component of Rasa do:
DIETClassifier, TEDPolicy, ResponseSelector, ...) or making an instance raises TensorFlowKeptOut,
a SystemExit rather than an Exception on purpose: Rasa's `load_agent` catches every Exception of
a model load, logs it and serves without a model, so a model that needs TensorFlow stops the
server at start-up with this message instead of answering nothing. Any other attribute of a
stand-in module raises MissingInStandIn, an AttributeError with the same explanation: modules
that scan sys.modules with getattr (pickle's and skops' `whichmodule`) take it as "not here",
and bot/server_model_load.py turns it into TensorFlowKeptOut when a model load meets it.

Only `rasa run` gets it: bot/sitecustomize.py installs it when OPASTIN_TENSORFLOW_STANDIN=1,
which opastin.stack sets for the Rasa server alone (and deploy/rasa-entrypoint.sh for the
image's `run`); `rasa train`, `rasa shell` and `rasa interactive` keep the real TensorFlow.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any, NoReturn

SWITCH = "OPASTIN_TENSORFLOW_STANDIN"  # set by the launcher for `rasa run` only
SETTING = "OPASTIN_RASA_WITHOUT_TENSORFLOW"  # the user's setting (opastin/config.py)
PACKAGE = "tensorflow"

# What the server's imports take from TensorFlow: each stand-in module's submodules and classes.
SUBMODULES = {"tensorflow": ("keras",), "tensorflow.keras": ("callbacks", "utils")}
CLASSES = {"tensorflow.keras.callbacks": ("Callback",), "tensorflow.keras.utils": ("Sequence",)}
MODULES = {PACKAGE, *(f"{parent}.{child}" for parent, kids in SUBMODULES.items() for child in kids)}


def explanation(what: str) -> str:
    return (
        f"error: {what} needs TensorFlow, which is kept out of this Rasa server process "
        f"({SWITCH}=1, bot/tensorflow_standin.py). A model with a TensorFlow component "
        f"(e.g. DIETClassifier, TEDPolicy, ResponseSelector) needs the real one: set "
        f"{SETTING}=false (docs/operations.md)."
    )


class TensorFlowKeptOut(SystemExit):
    """Something in this process wanted real TensorFlow; a SystemExit so nobody swallows it."""

    def __init__(self, what: str) -> None:
        super().__init__(explanation(what))
        self.what = what


class MissingInStandIn(AttributeError):
    """An attribute the stand-in does not have: "not here" to probes, explained to real uses."""

    def __init__(self, what: str) -> None:
        super().__init__(explanation(what))
        self.what = what


def refuse(what: str) -> NoReturn:
    raise TensorFlowKeptOut(what)


def placeholder(module: str, name: str) -> type:
    """A class Rasa's modules can subclass at import time; making an instance refuses."""

    def __new__(cls: type, *args: Any, **kwargs: Any) -> NoReturn:
        refuse(f"creating {cls.__module__}.{cls.__qualname__} (a {module}.{name})")

    doc = f"Stand-in for {module}.{name}: can be subclassed, not instantiated."
    return type(name, (), {"__module__": module, "__new__": __new__, "__doc__": doc})


class StandInModule(types.ModuleType):
    """A TensorFlow module with only what `rasa run` imports; any other attribute is missing."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):  # the import system's probes
            raise AttributeError(name)
        if name in SUBMODULES.get(self.__name__, ()):
            return importlib.import_module(f"{self.__name__}.{name}")
        raise MissingInStandIn(f"{self.__name__}.{name}")


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the stand-in modules for `tensorflow` and refuses its other submodules."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        if fullname not in MODULES:
            refuse(f"the module {fullname}")
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = StandInModule(spec.name, f"Stand-in for {spec.name} ({__name__}).")
        module.__path__ = []  # a package: its submodules come from this finder too
        for name in CLASSES.get(spec.name, ()):
            setattr(module, name, placeholder(spec.name, name))
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: create_module made the whole module."""


def install() -> None:
    """Serve the stand-in from now on; refuse if the real TensorFlow is already imported."""
    real = sys.modules.get(PACKAGE)
    if real is not None and not isinstance(real, StandInModule):
        refuse(f"installing the stand-in after {PACKAGE} was imported")
    if not any(isinstance(finder, StandInFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, StandInFinder())
