"""Custom Rasa NLU components (importable as `components.*` with PYTHONPATH=bot)."""

from components.skops_import import speed_up_skops_import

# Before Rasa's LogisticRegressionClassifier imports skops.io (12 s less per Rasa start).
speed_up_skops_import()
