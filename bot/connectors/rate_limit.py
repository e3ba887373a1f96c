"""Abuse limits in the connectors: messages per minute per conversation and per client address.

Why: without them one client can send messages as fast as the server answers (each one runs
the NLU and a search) and fill the tracker store. nginx limits requests in production
(deploy/nginx.conf); these limits protect `make run` and any Rasa reached without nginx.

Token buckets: each key may send `burst` messages at once, then `per_minute` a minute. A
refused message is not processed at all, so the conversation stays as it was; the client is
told when to retry (REST: 429 with Retry-After; socket.io: a `rate_limited` event).

Settings (environment, validated when the channel is built, 0 turns a limit off):
OPASTIN_RATE_PER_CONVERSATION (default 30) and OPASTIN_RATE_PER_IP (default 120). Loopback
clients are not limited per address: on one machine they are the operator's own tools (eval,
load tests, console), and behind a local proxy every visitor would share one address.
"""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

PER_CONVERSATION_ENV = "OPASTIN_RATE_PER_CONVERSATION"
PER_IP_ENV = "OPASTIN_RATE_PER_IP"
DEFAULT_PER_CONVERSATION = 30
DEFAULT_PER_IP = 120
MAX_KEYS = 100_000  # buckets kept; the least recently used is dropped (it was full anyway)


def parse_limit(environ: Mapping[str, str], name: str, default: int) -> int:
    """Messages per minute from `environ[name]`; ValueError with the variable's name if bad."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected messages per minute, 0 = off") from None
    if not 0 <= value <= 100_000:
        raise ValueError(f"{name}={raw!r}: must be between 0 (off) and 100000")
    return value


class RateLimiter:
    """Token buckets per key: `per_minute` messages a minute, up to `burst` at once."""

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.per_minute = per_minute
        self.burst = max(1, per_minute // 2) if burst is None else burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, time

    def retry_after(self, key: str) -> float | None:
        """Take one message for `key`: None if allowed, else the seconds until one is allowed."""
        if self.per_minute <= 0:
            return None
        now, rate = self._clock(), self.per_minute / 60.0
        tokens, then = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * rate)
        if tokens >= 1.0:
            tokens -= 1.0
            wait = None
        else:
            wait = (1.0 - tokens) / rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait


@dataclass
class MessageLimits:
    """The two limits a connector applies to every incoming message."""

    per_conversation: RateLimiter
    per_ip: RateLimiter

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MessageLimits:
        environ = os.environ if environ is None else environ
        return cls(
            RateLimiter(parse_limit(environ, PER_CONVERSATION_ENV, DEFAULT_PER_CONVERSATION)),
            RateLimiter(parse_limit(environ, PER_IP_ENV, DEFAULT_PER_IP)),
        )

    def refusal(self, conversation: str, ip: str | None) -> tuple[int, str] | None:
        """None if the message may go on, else (Retry-After in whole seconds, reason)."""
        if ip and not is_loopback(ip):
            wait = self.per_ip.retry_after(ip)
            if wait is not None:
                return retry_seconds(wait), (
                    f"too many messages from your address (limit {self.per_ip.per_minute} "
                    "a minute); please wait"
                )
        wait = self.per_conversation.retry_after(conversation)
        if wait is not None:
            return retry_seconds(wait), (
                f"too many messages in this conversation (limit "
                f"{self.per_conversation.per_minute} a minute); please wait"
            )
        return None


def retry_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def is_loopback(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback
