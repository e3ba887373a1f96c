"""Custom Rasa NLU components (importable as `components.*` with PYTHONPATH=bot).

Importing this package (Rasa does, for the featurizer in config.yml) also makes skops.io's
import fast, the logistic regression score a message without sklearn's per-call overhead
(intent_scores.py) and the sparse featurizers compute their per-token features only when read
(lazy_sequence_features.py); all keep the trained model's format and answers.
"""

from components import intent_scores, lazy_sequence_features
from components.skops_import import speed_up_skops_import

# Before Rasa's LogisticRegressionClassifier imports skops.io (12 s less per Rasa start).
speed_up_skops_import()
intent_scores.install()
lazy_sequence_features.install()
