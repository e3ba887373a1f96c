"""Our own Rasa policies (run inside the Rasa server, .venvs/rasa)."""
