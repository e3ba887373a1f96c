"""Opastin's staff console: try the bot, review conversations, turn mistakes into tests.

It replaces the part of Rasa X that staff used (Rasa X can no longer be installed), built on
Rasa's HTTP API and the SQL tracker store. See docs/console.md.
"""
