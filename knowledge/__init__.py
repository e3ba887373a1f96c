"""The corpus of organisations and services, with its schema and loader."""

from knowledge.loader import CorpusError, corpus_hash, load_corpus
from knowledge.schema import Corpus, Organisation, Service

__all__ = ["Corpus", "CorpusError", "Organisation", "Service", "corpus_hash", "load_corpus"]
