"""YAML data files read with libyaml's parser when PyYAML has it (the wheels do).

`yaml.safe_load` uses PyYAML's pure-Python parser, about ten times slower: reading the NLU data,
the evaluation sets and the corpus with it cost seconds at start-up and in every test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse YAML text like `yaml.safe_load` (the same safe types), with the C parser."""
    return yaml.load(text, Loader=SAFE_LOADER)


def read_yaml(path: Path) -> Any:
    """Parse a UTF-8 YAML file (see load_yaml)."""
    return load_yaml(path.read_text(encoding="utf-8"))
