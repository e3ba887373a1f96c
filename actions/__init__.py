"""Custom actions for the Rasa assistant (run by rasa-sdk: python -m actions.server)."""
