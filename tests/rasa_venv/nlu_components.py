"""Rasa NLU components built as bot/config.yml configures them, for tests that compare our
replacements (bot/components) with Rasa's own methods on the real training data.

The settings come from bot/config.yml itself, so a changed pipeline changes what is tested.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from opastin.stack import BOT_DIR
from opastin.yaml_files import read_yaml


def create(cls: type, config: dict[str, Any], storage: LocalModelStorage, name: str) -> Any:
    """A component through Rasa's own `create`, its defaults overridden by `config`."""
    context = ExecutionContext(GraphSchema({}), node_name=name)
    return cls.create({**cls.get_default_config(), **config}, storage, Resource(name), context)


def pipeline_settings(name: str) -> list[dict[str, Any]]:
    """The settings of every bot/config.yml pipeline entry called `name`, in order."""
    pipeline = read_yaml(BOT_DIR / "config.yml")["pipeline"]
    return [
        {key: value for key, value in step.items() if key != "name"}
        for step in pipeline
        if step["name"] == name
    ]


def real_nlu_data() -> TrainingData:
    """bot/data/nlu, all languages (asserting it is the real data, not an empty folder)."""
    data = load_data(str(BOT_DIR / "data" / "nlu"))
    assert len(data.intent_examples) > 1000 and len(data.intents) > 2, "the real NLU data"
    return data


def tokenizer_and_count_vectors(storage: LocalModelStorage) -> tuple[Any, list[Any]]:
    """The whitespace tokenizer and the count-vector featurizers of bot/config.yml, untrained."""
    tokenizer = create(WhitespaceTokenizer, {}, storage, "tokenizer")
    settings = pipeline_settings("CountVectorsFeaturizer")
    assert len(settings) == 2, "bot/config.yml: word and char_wb count vectors"
    vectors = [
        create(CountVectorsFeaturizer, config, storage, f"count_vectors_{index}")
        for index, config in enumerate(settings)
    ]
    return tokenizer, vectors
