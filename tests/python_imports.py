"""Which top-level modules a folder of Python code imports, read from its source (stdlib only).

Shared by the packaging checks of both venvs (tests/unit/test_packaging.py for the action
image, tests/rasa_venv/test_rasa_image.py for the Rasa image), so it must import nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path


def imported_names(folder: Path) -> dict[str, Path]:
    """Top-level names imported anywhere below a folder (also inside functions): name -> file.

    Relative imports (within the folder) are left out; the first file importing a name is kept.
    """
    names: dict[str, Path] = {}
    for file in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [node.module]
            else:
                continue
            for name in found:
                names.setdefault(name.split(".")[0], file)
    return names
