"""Encoders, the faiss index over the corpus, and the search that names organisations."""
