"""The connectors' rate limits: token buckets per conversation and per client address."""

from __future__ import annotations

import pytest
from connectors.rate_limit import (
    PER_CONVERSATION_ENV,
    PER_IP_ENV,
    MessageLimits,
    RateLimiter,
    is_loopback,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_cut_at_the_burst_size_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=30, burst=5, clock=clock)
    answered = [limiter.retry_after("a") is None for _ in range(40)]
    assert answered == [True] * 5 + [False] * 35, "40 at once: the first 5 pass"
    assert limiter.retry_after("a") == pytest.approx(2.0), "one message every 2 s at 30/min"
    assert limiter.retry_after("b") is None, "other keys have their own bucket"
    clock.now += 2.0
    assert limiter.retry_after("a") is None and limiter.retry_after("a") is not None
    clock.now += 600
    assert sum(limiter.retry_after("a") is None for _ in range(10)) == 5, "never above burst"


def test_zero_turns_a_limit_off() -> None:
    limiter = RateLimiter(per_minute=0)
    assert all(limiter.retry_after("a") is None for _ in range(1000))


def test_old_keys_are_forgotten_so_memory_stays_bounded() -> None:
    limiter = RateLimiter(per_minute=60, clock=Clock(), max_keys=3)
    for key in "abcd":
        limiter.retry_after(key)
    assert list(limiter._buckets) == ["b", "c", "d"]


def test_limits_come_from_the_environment_and_are_validated() -> None:
    limits = MessageLimits.from_env({PER_CONVERSATION_ENV: "12", PER_IP_ENV: "0"})
    assert (limits.per_conversation.per_minute, limits.per_ip.per_minute) == (12, 0)
    assert limits.per_conversation.burst == 6
    defaults = MessageLimits.from_env({})
    assert (defaults.per_conversation.per_minute, defaults.per_ip.per_minute) == (30, 120)
    for bad in ("ten", "-1", "1.5", "100001"):
        with pytest.raises(ValueError, match=PER_CONVERSATION_ENV):
            MessageLimits.from_env({PER_CONVERSATION_ENV: bad})


def test_per_ip_limit_counts_all_conversations_of_an_address() -> None:
    clock = Clock()
    limits = MessageLimits(
        RateLimiter(per_minute=60, burst=10, clock=clock),
        RateLimiter(per_minute=6, burst=3, clock=clock),
    )
    results = [limits.refusal(f"conversation-{i}", "203.0.113.7") for i in range(4)]
    assert results[:3] == [None] * 3
    retry_after, reason = results[3]
    assert retry_after == 10 and "from your address" in reason
    assert limits.refusal("conversation-9", "198.51.100.1") is None, "other addresses go on"


def test_per_conversation_limit_applies_to_loopback_too_per_ip_does_not() -> None:
    clock = Clock()
    limits = MessageLimits(
        RateLimiter(per_minute=60, burst=2, clock=clock),
        RateLimiter(per_minute=1, burst=1, clock=clock),
    )
    assert [limits.refusal(f"c{i}", "127.0.0.1") for i in range(5)] == [None] * 5
    assert limits.refusal("same", "::1") is None and limits.refusal("same", "::1") is None
    retry_after, reason = limits.refusal("same", "::1")
    assert retry_after == 1 and "in this conversation" in reason


@pytest.mark.parametrize(
    ("ip", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.2", False),
        ("2001:db8::1", False),
        ("not an address", False),
    ],
)
def test_loopback_addresses(ip: str, loopback: bool) -> None:
    assert is_loopback(ip) is loopback
