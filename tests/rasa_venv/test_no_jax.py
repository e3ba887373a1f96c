"""jax stays out of the Rasa process: TensorFlow imports it only for TFLite, and falls back."""

from __future__ import annotations

import importlib
import sys

import pytest

from opastin.stack import BOT_DIR


def test_bot_comes_first_so_jax_is_not_imported() -> None:
    site = [i for i, entry in enumerate(sys.path) if entry.endswith("site-packages")]
    assert sys.path.index(str(BOT_DIR)) < min(site), "bot/ before site-packages, as in Rasa"
    with pytest.raises(ImportError, match="kept out of the Rasa process"):
        import jax  # noqa: F401
    tflite_util = importlib.import_module("tensorflow.lite.python.util")
    assert tflite_util._xla_computation is None, "TensorFlow took its no-jax fallback"
    assert "jaxlib" not in sys.modules
