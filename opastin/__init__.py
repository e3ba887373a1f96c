"""Opastin: runs and configures the assistant (Rasa server, action server, chat page)."""
