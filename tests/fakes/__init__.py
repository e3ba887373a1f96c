"""Fake external services that the end-to-end tests run on 127.0.0.1."""
