"""Replace one Rasa method with a faster equivalent, once per process.

Our speed-ups of Rasa's per-turn work (components/intent_scores.py, policies/*.py; measured
in docs/performance.md) each wrap Rasa's own method: the wrapper marks itself with
`__wrapped__` (the original, which the tests compare against and which the wrapper falls
back to), so importing a package twice never wraps a wrapper. The wrapper also takes the
original's name, docstring and annotations (functools.update_wrapper): `rasa train` validates
each component's method by its signature and type hints, and refused a wrapper with its own
(tests/rasa_venv/test_rasa_patches.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def replace_once(owner: type, name: str, wrap: Callable[[Any], Any]) -> bool:
    """Set `owner.name` to `wrap(current)`; False if it already is a wrapper."""
    current = getattr(owner, name)
    if hasattr(current, "__wrapped__"):
        return False
    setattr(owner, name, functools.update_wrapper(wrap(current), current))
    return True
