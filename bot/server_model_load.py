"""How a Rasa server without TensorFlow loads a model: training graph deferred, TF refused.

Loading a model (ModelMetadata.from_dict) imports the class of every node of both of its graphs.
The training graph of every Rasa 3.6 model has DefaultV1RecipeValidator, whose module imports
DIETClassifier, TEDPolicy and ResponseSelector to check a config before training, and with them
TensorFlow and Keras; `rasa run` never runs that graph (its users: training, fine-tuning and
telemetry, which is off). With TensorFlow kept out of the server (bot/tensorflow_standin.py) the
training graph's schema is kept as the model's metadata.json has it, and deserialised on first
use; the prediction graph is deserialised as before, so a model that predicts with a TensorFlow
component still needs TensorFlow when it loads: each of its classes is imported first, and one
that needs TensorFlow stops the server with TensorFlowKeptOut naming the node and the class,
also when its import only met a missing stand-in attribute (say `class Layer(tf.keras.layers.
Layer)` in a custom component): Rasa's load_agent would log any Exception and serve without a
model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_patches import replace_once
from tensorflow_standin import MissingInStandIn, TensorFlowKeptOut

EMPTY_SCHEMA: dict[str, Any] = {"nodes": {}}


class DeferredSchema:
    """A GraphSchema as serialised; the real one is made on the first attribute anybody reads."""

    def __init__(self, serialized: dict[str, Any]) -> None:
        self.serialized = serialized
        self.loaded: Any = None

    def __getattr__(self, name: str) -> Any:
        if self.loaded is None:
            from rasa.engine.graph import GraphSchema

            self.loaded = GraphSchema.from_dict(self.serialized)
        return getattr(self.loaded, name)


def stand_in_miss(error: BaseException | None) -> MissingInStandIn | None:
    """The stand-in's MissingInStandIn in `error`'s chain of causes, if it is there."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, MissingInStandIn):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def import_predict_classes(schema: dict[str, Any]) -> None:
    """Import each node's class as GraphSchema.from_dict will; refuse one that needs TensorFlow."""
    from rasa.shared.utils.common import class_from_module_path

    for node, serialized in schema["nodes"].items():
        uses = serialized["uses"]
        if not isinstance(uses, str):  # already a class
            continue
        component = f"the model's component {uses} (node {node}; it asked for"
        try:
            class_from_module_path(uses)
        except TensorFlowKeptOut as error:
            raise TensorFlowKeptOut(f"{component} {error.what})") from error
        except Exception as error:
            missing = stand_in_miss(error)
            if missing is None:  # not ours: Rasa's own from_dict reports it as it always did
                continue
            raise TensorFlowKeptOut(f"{component} {missing.what})") from error


def deferring_train_schema(from_dict: Callable[..., Any]) -> Callable[..., Any]:
    """ModelMetadata.from_dict with the training graph deferred (`from_dict` is the original)."""

    def from_dict_deferred(serialized: dict[str, Any]) -> Any:
        import_predict_classes(serialized["predict_schema"])
        metadata = from_dict({**serialized, "train_schema": EMPTY_SCHEMA})
        metadata.train_schema = DeferredSchema(serialized["train_schema"])
        return metadata

    return from_dict_deferred


def install() -> None:
    """Defer the training graph of every model this process loads from now on."""
    from rasa.engine.storage.storage import ModelMetadata

    replace_once(ModelMetadata, "from_dict", lambda current: deferring_train_schema(current))
