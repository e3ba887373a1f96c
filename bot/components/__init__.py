"""Custom Rasa NLU components (importable as `components.*` with PYTHONPATH=bot).

Importing this package (Rasa does, for the featurizer in config.yml) also makes skops.io's
import fast and the logistic regression score a message without sklearn's per-call overhead
(intent_scores.py); both keep the trained model's format and answers.
"""

from components import intent_scores
from components.skops_import import speed_up_skops_import

# Before Rasa's LogisticRegressionClassifier imports skops.io (12 s less per Rasa start).
speed_up_skops_import()
intent_scores.install()
