"""Replace one Rasa method with a faster equivalent, once per process.

Our speed-ups of Rasa's per-turn work (components/intent_scores.py, policies/*.py; measured
in docs/performance.md) each wrap Rasa's own method. The wrapper carries `__wrapped__` (the
original, which the tests compare against and which the wrapper falls back to) and our own
mark, so importing a package twice never wraps a wrapper. The mark, not `__wrapped__`, says
"already replaced": Rasa's own methods may carry `__wrapped__` too (a @contextmanager such as
SQLTrackerStore.session_scope). The wrapper also takes the original's name, docstring and
annotations (functools.update_wrapper): `rasa train` validates each component's method by its
signature and type hints, and refused a wrapper with its own
(tests/rasa_venv/test_rasa_patches.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

REPLACEMENT = "_opastin_replacement"  # set on every wrapper replace_once installs


def replace_once(owner: type, name: str, wrap: Callable[[Any], Any]) -> bool:
    """Set `owner.name` to `wrap(current)`; False if it already is our wrapper."""
    current = getattr(owner, name)
    if getattr(current, REPLACEMENT, False):
        return False
    wrapper = functools.update_wrapper(wrap(current), current)
    setattr(wrapper, REPLACEMENT, True)
    setattr(owner, name, wrapper)
    return True
