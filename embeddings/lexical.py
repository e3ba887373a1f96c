"""A BM25 ranker over the same passages, for the hybrid (dense + lexical) search.

Tokens are lower-cased words plus a 5-character prefix of longer words, a crude stemmer
that lets Finnish and Estonian inflections ("verokortin", "verokortti") meet; CJK text is
split into characters. Kept only if `make eval` shows the hybrid helps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

WORD = re.compile(r"\w+", re.UNICODE)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
PREFIX = 5


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in WORD.findall(text.lower()):
        if CJK.search(word):
            out.extend(CJK.findall(word))
            continue
        out.append(word)
        if len(word) > PREFIX + 1:
            out.append(word[:PREFIX] + "~")
    return out


class LexicalRanker:
    def __init__(self, texts: Sequence[str]) -> None:
        self._bm25 = BM25Okapi([tokens(t) or ["_"] for t in texts])

    def scores(self, query: str) -> np.ndarray:
        """BM25 scores for every passage, scaled to [0, 1] by the best one."""
        raw = np.asarray(self._bm25.get_scores(tokens(query)), dtype=np.float32)
        top = float(raw.max()) if raw.size else 0.0
        return raw / top if top > 0 else raw
