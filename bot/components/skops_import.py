"""Import skops.io in seconds less, in a process that has already imported Rasa.

Rasa's LogisticRegressionClassifier saves and loads its model with skops.io. At import,
skops.io names the module of each of numpy's ~760 ufuncs with `whichmodule` (copied from
pickle), which scans every module in `sys.modules` for each one. A Rasa process has about
5,600 modules loaded (TensorFlow), so that import took 12.4 s of CPU on every `rasa run`,
`rasa train` and NLU evaluation, against 2.8 s in a bare interpreter (measured on this 2-core
machine; docs/performance.md).

The replacement answers the same question from one pass over the modules: the first module,
in `sys.modules` order, whose attribute `name` is `obj`. Modules that compute attributes
(a module `__getattr__`, or a module subclass) are asked in order with getattr, as the
original does, so the answer is the original's (tests/rasa_venv/test_skops_import.py
compares both on every ufunc). Dotted names and objects that carry `__module__` go the
original way.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

WhichModule = Callable[[Any, str], str]
_SKIPPED = ("__main__", "__mp_main__")


class _ModuleIndex:
    """(attribute name, object id) -> first module holding it, for one `sys.modules` state."""

    def __init__(self) -> None:
        self.size = -1
        self.first: dict[tuple[str, int], tuple[int, str, Any]] = {}
        self.computed: list[tuple[int, str, ModuleType]] = []  # modules that compute attributes

    def rebuild(self) -> None:
        self.first, self.computed = {}, []
        modules = list(sys.modules.items())
        for position, (module_name, module) in enumerate(modules):
            if module is None or module_name in _SKIPPED:
                continue
            try:
                namespace = dict(vars(module))
            except TypeError:  # no __dict__: only getattr can tell
                self.computed.append((position, module_name, module))
                continue
            if type(module) is not ModuleType or "__getattr__" in namespace:
                self.computed.append((position, module_name, module))
            for attribute, value in namespace.items():
                self.first.setdefault((attribute, id(value)), (position, module_name, value))
        self.size = len(modules)

    def lookup(self, obj: Any, name: str) -> str | None:
        """The module name, or None when no module indexed holds `obj` as `name`."""
        # Keyed by id(): the index holds each value (third item), so an id is never reused.
        found = self.first.get((name, id(obj)))
        limit = found[0] if found else len(sys.modules)
        for position, module_name, module in self.computed:
            if position >= limit:
                break
            try:
                if getattr(module, name) is obj:
                    return module_name
            except Exception:  # what the original catches is AttributeError; be as lenient
                continue
        return found[1] if found else None


def indexed_whichmodule(original: WhichModule) -> WhichModule:
    """`original` (skops' whichmodule), answered from an index of `sys.modules`."""
    index = _ModuleIndex()

    def whichmodule(obj: Any, name: str) -> str:
        module_name = getattr(obj, "__module__", None)
        if module_name is not None or "." in name:
            return original(obj, name)
        if index.size != len(sys.modules):
            index.rebuild()
        answer = index.lookup(obj, name)
        if answer is None:  # perhaps set after the last pass: look again, then the slow way
            index.rebuild()
            answer = index.lookup(obj, name) or original(obj, name)
        return answer

    whichmodule.__wrapped__ = original  # type: ignore[attr-defined]
    return whichmodule


def speed_up_skops_import() -> bool:
    """Patch skops.io's whichmodule before skops.io runs its import-time work.

    Loads the `skops.io` package object without running its `__init__`, patches its `_utils`,
    then runs the `__init__`. Returns False when skops is not installed or already imported.
    """
    if "skops.io" in sys.modules:
        return False
    spec = importlib.util.find_spec("skops.io")
    if spec is None or spec.loader is None:
        return False
    package = importlib.util.module_from_spec(spec)
    sys.modules["skops.io"] = package
    try:
        utils = importlib.import_module("skops.io._utils")
        utils.whichmodule = indexed_whichmodule(utils.whichmodule)
        spec.loader.exec_module(package)
    except BaseException:
        for name in [n for n in sys.modules if n == "skops.io" or n.startswith("skops.io.")]:
            del sys.modules[name]
        raise
    sys.modules["skops"].io = package
    return True
