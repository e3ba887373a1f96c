"""What the action server may say about a user's message in its logs: never the text itself.

Masking misses forms of personal data (identity codes with odd dashes, foreign digits, IBANs),
so logs carry only the length and a fingerprint. The fingerprint is an HMAC with a key made
afresh in each process: equal messages get equal fingerprints within one run (enough to follow
a conversation in the log), but a short message such as an identity code cannot be recovered
by hashing every candidate, and fingerprints cannot be linked across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_PROCESS_KEY = secrets.token_bytes(32)


def describe_message(text: str) -> str:
    """A log-safe stand-in for a user's message, e.g. ``<24 chars #3f9a0c1b>``."""
    digest = hmac.new(_PROCESS_KEY, text.encode("utf-8"), hashlib.sha256).hexdigest()[:8]
    return f"<{len(text)} chars #{digest}>"
