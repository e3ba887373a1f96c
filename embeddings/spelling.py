"""Typo repair against the corpus's own words, before a query is encoded.

Why: the multilingual encoder loses heavily misspelt questions ("chld benifit aplication",
"erning related pention") below the answer threshold, although every misspelt word is one edit
away from a corpus word. A word the corpus does not know is replaced by the most frequent corpus
word within one edit (insertion, deletion, substitution or transposition), found through a
table of single-character deletions (the SymSpell idea). Known words, short words and words
with no close neighbour are left as they are, so a correct question is never changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

WORD = re.compile(r"\w+", re.UNICODE)
MIN_LENGTH = 5  # shorter words have too many neighbours one edit away ("pies" -> "ties")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit_apart(a: str, b: str) -> bool:
    """True for one insertion, deletion, substitution or adjacent transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class SpellingRepair:
    """Corrects words that are one edit away from a corpus word."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.counts: Counter[str] = Counter(
            w for text in texts for w in WORD.findall(text.lower()) if not w.isdigit()
        )
        self._by_delete: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) >= MIN_LENGTH:
                for key in {word} | _deletes(word):
                    self._by_delete.setdefault(key, []).append(word)

    def word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.counts or lower.isdigit():
            return word
        candidates = {c for key in {lower} | _deletes(lower) for c in self._by_delete.get(key, ())}
        candidates = {c for c in candidates if _one_edit_apart(lower, c)}
        if not candidates:
            return word
        return max(sorted(candidates), key=lambda c: self.counts[c])

    def repair(self, query: str) -> str:
        """The query with each unknown word replaced by its closest corpus word, if any."""
        return WORD.sub(lambda m: self.word(m.group(0)), query)
