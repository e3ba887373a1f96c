"""Custom Rasa NLU components (importable as `components.*` with PYTHONPATH=bot)."""
