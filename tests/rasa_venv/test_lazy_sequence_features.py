"""The sparse featurizers' lazy sequence features equal Rasa's, and this pipeline never reads them.

The featurizers of bot/config.yml (whitespace tokens, lexical-syntactic, word and char_wb 2-5
count vectors) and the CRF entity extractor are trained through Rasa's component API on the NLU
examples of every language; every tenth example is then processed by Rasa's own `process` and
by ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import components  # noqa: F401  (installs the lazy sequence features, as in the Rasa server)
import pytest
from components.intent_scores import _sentence_features
from components.lazy_sequence_features import LazySparseFeatures, install
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import (
    LexicalSyntacticFeaturizer,
)
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from tests.rasa_venv.nlu_components import create, real_nlu_data, tokenizer_and_count_vectors

pytestmark = pytest.mark.slow  # trains three featurizers and the CRF: ~20 s

install()  # a no-op after the package's own install; kept so the test can run first
RASA_PROCESS = {
    cls: cls.process.__wrapped__  # type: ignore[attr-defined]
    for cls in (CountVectorsFeaturizer, LexicalSyntacticFeaturizer)
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Any], Any, list[str]]:
    """(tokenizer, featurizers, CRF, held texts), trained on bot/data/nlu."""
    data = real_nlu_data()
    assert data.entity_examples, "the real NLU data has entities"
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("model")))
    tokenizer, count_vectors = tokenizer_and_count_vectors(storage)
    lexical = create(LexicalSyntacticFeaturizer, {}, storage, "lexical")
    tokenizer.process_training_data(data)
    for featurizer in (lexical, *count_vectors):
        featurizer.train(data)
        featurizer.process_training_data(data)
    crf = create(CRFEntityExtractor, {}, storage, "crf")
    crf.train(data)
    texts = [m.get(TEXT) for m in data.intent_examples[::10]]
    return tokenizer, [lexical, *count_vectors], crf, texts


def _messages(tokenizer: Any, texts: list[str]) -> list[Message]:
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return messages


def _featurized_both_ways(
    tokenizer: Any, featurizers: list[Any], texts: list[str]
) -> tuple[list[Message], list[Message]]:
    """`texts` featurized by our `process` and, separately, by Rasa's own."""
    ours, rasas = _messages(tokenizer, texts), _messages(tokenizer, texts)
    for featurizer in featurizers:
        featurizer.process(ours)
        RASA_PROCESS[type(featurizer)](featurizer, rasas)
    return ours, rasas


def test_the_featurizers_are_wrapped() -> None:
    for cls, original in RASA_PROCESS.items():
        assert cls.process is not original and cls.process.__name__ == "process"
    assert not install()


def test_the_same_features_in_the_same_order(pipeline: tuple[Any, ...]) -> None:
    tokenizer, featurizers, _crf, texts = pipeline
    ours, rasas = _featurized_both_ways(tokenizer, featurizers, texts)
    lazy = 0
    for index, (mine, theirs) in enumerate(zip(ours, rasas, strict=True)):
        assert len(mine.features) == len(theirs.features) > 0
        for a, b in zip(mine.features, theirs.features, strict=True):
            assert (a.type, a.attribute, a.origin) == (b.type, b.attribute, b.origin)
            assert a.is_sparse() == b.is_sparse() and a.is_dense() == b.is_dense()
            if isinstance(a, LazySparseFeatures):
                lazy += 1
                assert not a.computed and a.type == "sequence"
            assert type(a.features) is type(b.features)  # reading computes
            assert a.features.shape == b.features.shape and a.features.dtype == b.features.dtype
            assert (a.features != b.features).nnz == 0
        if index < 20:  # Rasa's training cache keys on it (hashing every feature: slow)
            assert mine.fingerprint() == theirs.fingerprint()
    assert lazy == 3 * len(texts)  # one per featurizer and message


def test_this_pipeline_never_computes_them(pipeline: tuple[Any, ...]) -> None:
    """The classifier's and the CRF's reads leave them lazy, with the same entities."""
    tokenizer, featurizers, crf, texts = pipeline
    ours, rasas = _featurized_both_ways(tokenizer, featurizers, texts)
    for message in ours:
        sparse, dense = _sentence_features(message, TEXT)
        assert len(sparse) == 2 and not dense  # word and char count vectors
    crf.process(ours)
    crf.process(rasas)
    assert [m.get(ENTITIES) for m in ours] == [m.get(ENTITIES) for m in rasas]
    assert any(m.get(ENTITIES) for m in ours), "some examples have entities"
    lazy = [f for m in ours for f in m.features if isinstance(f, LazySparseFeatures)]
    assert lazy and not any(f.computed for f in lazy)
