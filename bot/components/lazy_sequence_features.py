"""Compute the sparse featurizers' per-token (sequence) features only when something reads them.

Both count-vector featurizers transform every message twice: once token by token (the
sequence features, one row per token) and once as a whole (the sentence features); the
lexical-syntactic featurizer makes only sequence features. In this pipeline nothing reads
sparse sequence features: the logistic regression scores the sentence features
(components/intent_scores.py), the CRF entity extractor reads its own token features and the
dense sequence features (there are none), and the other components read no features. Yet the
count vectors' token transforms alone cost 2.3 ms of CPU per message (docs/performance.md,
"Fourth pass").

Here those featurizers add their sequence features as `LazySparseFeatures`: the same Features
(type, attribute, origin, in the same place in `message.features`), whose matrix is computed by
Rasa's own code the first time anything reads `.features`. Anything that does (a pipeline with
DIET or TED, Rasa's training cache, a test) gets the same matrix as before. The inputs of that
computation are fixed when the message is processed: the count vectors' token strings, and the
lexical-syntactic featurizer's raw token features (cheap; the costly part, mapping them to
indices into a sparse matrix, is what waits). An untrained featurizer goes to Rasa's own method
(which warns). Same features as Rasa's: tests/rasa_venv/test_lazy_sequence_features.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa.shared.nlu.training_data.features import Features

Process = Callable[[Any, list[Any]], list[Any]]


class LazySparseFeatures(Features):
    """Sparse features whose matrix `compute()` makes on first read (then kept)."""

    def __init__(
        self, compute: Callable[[], Any], feature_type: str, attribute: str, origin: str
    ) -> None:
        self._compute: Callable[[], Any] | None = compute
        self._matrix: Any = None
        self.type = feature_type
        self.origin = origin
        self.attribute = attribute
        self._cached_fingerprint: str | None = None

    @property  # type: ignore[override]
    def features(self) -> Any:
        if self._compute is not None:
            self._matrix, self._compute = self._compute(), None
        return self._matrix

    @features.setter
    def features(self, value: Any) -> None:
        self._matrix, self._compute = value, None

    def is_sparse(self) -> bool:
        """Known without computing: both featurizers make scipy sparse matrices."""
        return True

    @property
    def computed(self) -> bool:
        return self._compute is None


def _sorted_coo(vectorizer: Any, texts: list[str]) -> Any:
    """What CountVectorsFeaturizer._create_features makes of `texts` (a sorted COO matrix)."""
    matrix = vectorizer.transform(texts)
    matrix.sort_indices()
    return matrix.tocoo()


def lazy_count_vectors(original: Process) -> Process:
    """`original` (CountVectorsFeaturizer.process) with the sequence features made on read."""
    from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
    from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE

    def process(self: Any, messages: list[Any]) -> list[Any]:
        if self.vectorizers is None:
            return original(self, messages)
        for message in messages:
            for attribute in self._attributes:
                tokens = self._get_processed_message_tokens_by_attribute(message, attribute)
                vectorizer = self.vectorizers.get(attribute)
                if not vectorizer or not tokens:
                    continue  # Rasa's _create_features gives None for both: nothing added
                sequence = LazySparseFeatures(
                    lambda v=vectorizer, t=tokens: _sorted_coo(v, t),
                    FEATURE_TYPE_SEQUENCE,
                    attribute,
                    self._identifier,
                )
                message.add_features(sequence)
                if attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
                    sentence = _sorted_coo(vectorizer, [" ".join(tokens)])
                    message.add_features(
                        Features(sentence, FEATURE_TYPE_SENTENCE, attribute, self._identifier)
                    )
        return messages

    process.__wrapped__ = original  # type: ignore[attr-defined]
    return process


def lazy_lexical_syntactic(original: Process) -> Process:
    """`original` (LexicalSyntacticFeaturizer.process) with its sequence features made on read."""
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.shared.nlu.constants import FEATURE_TYPE_SEQUENCE, TEXT

    def process(self: Any, messages: list[Any]) -> list[Any]:
        if not self._feature_to_idx_dict:
            return original(self, messages)
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT])
            if not tokens:
                continue
            raw = self._map_tokens_to_raw_features(tokens)
            message.add_features(
                LazySparseFeatures(
                    lambda raw=raw: self._map_raw_features_to_indices(raw),
                    FEATURE_TYPE_SEQUENCE,
                    TEXT,
                    self._identifier,
                )
            )
        return messages

    process.__wrapped__ = original  # type: ignore[attr-defined]
    return process


def install() -> bool:
    """Replace both featurizers' process once per process; False if already done."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )
    from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import (
        LexicalSyntacticFeaturizer,
    )
    from rasa_patches import replace_once

    counts = replace_once(CountVectorsFeaturizer, "process", lazy_count_vectors)
    lexical = replace_once(LexicalSyntacticFeaturizer, "process", lazy_lexical_syntactic)
    return counts or lexical
