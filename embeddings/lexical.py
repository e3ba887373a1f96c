"""A BM25 ranker over the same passages, for the hybrid (dense + lexical) search.

Tokens are lower-cased words plus a 5-character prefix of longer words, a crude stemmer
that lets Finnish and Estonian inflections ("verokortin", "verokortti") meet; CJK text is
split into characters. The BM25 weights are precomputed as a sparse passage x term matrix,
so scoring a query is one sparse column sum (well under a millisecond for our corpus).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

WORD = re.compile(r"\w+", re.UNICODE)
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
PREFIX = 5
K1 = 1.5
B = 0.75
# Question words and other function words. The passages hold typical questions ("how do I
# get a tax card?"), which makes these words rare there, so BM25 would reward any passage
# phrased as a question: "How do I get a Finnish ID card?" ranked the tax card first.
_STOPWORDS_EN_FI_SV_ES_RU = """
    a am an and are as at be can could do does for from get have how i if in is it me my need
    of on or our should the to we what when where which who why will with you your
    ja jos kuinka miten mistä missä mitä minä minun mun olen on saan voin voinko
    att den det en ett får för hur i jag kan min mitt och på som var vad är
    como cómo de dónde el en es la los mi para por qué un una y
    где и как мне на что я в"""
STOPWORDS = frozenset(_STOPWORDS_EN_FI_SV_ES_RU.split())


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for word in WORD.findall(text.lower()):
        if word in STOPWORDS:
            continue
        if CJK.search(word):
            out.extend(CJK.findall(word))
            continue
        out.append(word)
        if len(word) > PREFIX + 1:
            out.append(word[:PREFIX] + "~")
    return out


class LexicalRanker:
    """Okapi BM25 (k1=1.5, b=0.75) over the passages."""

    def __init__(self, texts: Sequence[str]) -> None:
        docs = [tokens(t) for t in texts]
        self.vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        for row, doc in enumerate(docs):
            for term in set(doc):
                col = self.vocabulary.setdefault(term, len(self.vocabulary))
                rows.append(row)
                cols.append(col)
                counts.append(doc.count(term))
        shape = (len(docs), max(len(self.vocabulary), 1))
        tf = sparse.csr_matrix((np.asarray(counts, np.float32), (rows, cols)), shape=shape)
        lengths = np.asarray([len(d) for d in docs], dtype=np.float32)
        average = float(lengths.mean()) if len(docs) else 1.0
        df = np.bincount(cols, minlength=shape[1]).astype(np.float32)
        idf = np.log((len(docs) - df + 0.5) / (df + 0.5) + 1.0)
        tf = tf.tocoo()
        norm = K1 * (1 - B + B * lengths[tf.row] / max(average, 1e-9))
        weights = tf.data * (K1 + 1) / (tf.data + norm) * idf[tf.col]
        self._weights = sparse.csc_matrix((weights, (tf.row, tf.col)), shape=shape)

    def scores(self, query: str) -> np.ndarray:
        """BM25 scores for every passage, scaled to [0, 1] by the best one."""
        columns = [self.vocabulary[t] for t in tokens(query) if t in self.vocabulary]
        if not columns:
            return np.zeros(self._weights.shape[0], dtype=np.float32)
        raw = np.asarray(self._weights[:, columns].sum(axis=1)).ravel().astype(np.float32)
        top = float(raw.max())
        return raw / top if top > 0 else raw
