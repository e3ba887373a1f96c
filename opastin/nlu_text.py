"""Plain text of Rasa's NLU training examples, for every reader of bot/data/nlu.

The action server (language detection), the console (export, intent lookup) and the candidate
evaluation all read examples; the annotation syntax lives here once, below all three, so the
action server does not depend on the console package.
"""

from __future__ import annotations

import re

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def strip_annotations(text: str) -> str:
    """`I live in [Espoo](municipality)` -> `I live in Espoo`."""
    return ANNOTATION.sub(r"\1", text)
