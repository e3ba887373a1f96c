"""The faster skops.io import (bot/components/skops_import.py) gives skops' own answers."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.special
import skops.io._utils as skops_utils
from components.skops_import import indexed_whichmodule

from opastin.stack import BOT_DIR

ORIGINAL = getattr(skops_utils.whichmodule, "__wrapped__", skops_utils.whichmodule)


def ufuncs(module: types.ModuleType) -> list[tuple[np.ufunc, str]]:
    return [
        (obj, obj.__name__)
        for name in dir(module)
        if isinstance(obj := getattr(module, name), np.ufunc)
    ]


@pytest.mark.slow  # asks skops' own lookup, the slow one, about every ufunc: ~12 s
def test_every_numpy_and_scipy_ufunc_gets_the_original_module():
    fast = indexed_whichmodule(ORIGINAL)
    pairs = ufuncs(np) + ufuncs(scipy.special)
    assert len(pairs) > 300
    answers = [(name, fast(obj, name), ORIGINAL(obj, name)) for obj, name in pairs]
    assert [a for a in answers if a[1] != a[2]] == []


def test_first_module_in_order_wins_and_computed_attributes_are_asked(monkeypatch):
    """A module earlier in sys.modules holding the object wins, also one with __getattr__."""
    target = np.frompyfunc(lambda x: x, 1, 1)  # a ufunc without a module, like numpy's
    target_name = "opastin_probe"
    lazy = types.ModuleType("opastin_lazy")
    lazy.__getattr__ = lambda name: (
        target if name == target_name else (_ for _ in ()).throw(AttributeError(name))
    )
    plain = types.ModuleType("opastin_plain")
    setattr(plain, target_name, target)
    fast = indexed_whichmodule(ORIGINAL)

    monkeypatch.setitem(sys.modules, "opastin_plain", plain)
    assert fast(target, target_name) == ORIGINAL(target, target_name) == "opastin_plain"

    # Re-insert so that the lazy module comes before the plain one in sys.modules order.
    monkeypatch.delitem(sys.modules, "opastin_plain")
    monkeypatch.setitem(sys.modules, "opastin_lazy", lazy)
    monkeypatch.setitem(sys.modules, "opastin_plain", plain)
    assert fast(target, target_name) == ORIGINAL(target, target_name) == "opastin_lazy"


def test_an_attribute_set_after_indexing_is_still_found(monkeypatch):
    fast = indexed_whichmodule(ORIGINAL)
    fast(np.add, "add")  # builds the index
    late = np.frompyfunc(lambda x: x, 1, 1)
    monkeypatch.setattr(np, "opastin_late_ufunc", late, raising=False)
    assert fast(late, "opastin_late_ufunc") == ORIGINAL(late, "opastin_late_ufunc") == "numpy"


@pytest.mark.slow  # two fresh interpreters importing skops
def test_importing_the_components_patches_skops_before_its_import_time_work():
    """In a fresh interpreter, as Rasa loads bot/: skops.io comes up with the indexed lookup
    and the same trusted type names as an unpatched import."""
    script = (
        "import json, sys\n"
        "patched = sys.argv[1] == 'yes'\n"
        "if patched:\n"
        "    import components\n"
        "import skops.io, skops.io._utils as u, skops.io._trusted_types as t\n"
        "print(json.dumps([hasattr(u.whichmodule, '__wrapped__'),\n"
        "    t.NUMPY_UFUNC_TYPE_NAMES, t.SCIPY_UFUNC_TYPE_NAMES, t.NUMPY_DTYPE_TYPE_NAMES]))\n"
    )
    import json

    results = {}
    for patched in ("yes", "no"):
        done = subprocess.run(
            [sys.executable, "-c", script, patched],
            cwd=BOT_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        results[patched] = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["yes"][0] is True and results["no"][0] is False
    assert results["yes"][1:] == results["no"][1:]
    assert len(results["yes"][1]) > 50
