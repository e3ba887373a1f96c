"""What the Telegram channel remembers between updates, shared by every Rasa replica.

Two things: the ids of updates already handled (Telegram resends an update when our answer
was slow, and behind nginx the resend may reach another replica), and the payloads of buttons
longer than Telegram's 64-byte callback_data (the button may be pressed on another replica).
Kept in one process's memory, the second replica answers a resend twice and calls a pressed
button "expired". So when Rasa's lock store is Redis (`type: redis` or
`lock_store.AtomicRedisLockStore` in the endpoints file, as deploy/endpoints.yml has it), both
live in that Redis, through the lock store's own connection: no second set of settings. With
any other lock store (one process, `make run`) they stay in memory.

Redis failing is not fatal: the channel falls back to this process's memory and logs why, so a
restart of Redis costs at worst one duplicate answer, never a lost message.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError

from .telegram_protocol import ButtonPayloads, SeenUpdates

logger = logging.getLogger(__name__)

# Telegram gives up resending an update after 24 hours.
UPDATE_TTL_SECONDS = 24 * 3600
# A keyboard older than this answers "This button has expired" (as one evicted from memory).
BUTTON_TTL_SECONDS = 30 * 24 * 3600


def key_namespace(lock_key_prefix: str) -> str:
    """`opastin:lock:` (Rasa's lock keys) -> `opastin:telegram:`, beside them, not among them."""
    base = lock_key_prefix.removesuffix("lock:")
    return f"{base}telegram:"


class SharedSeenUpdates(SeenUpdates):
    """Update ids handled by any replica: SET NX in Redis (atomic), in memory without Redis."""

    def __init__(self, ttl_seconds: int = UPDATE_TTL_SECONDS) -> None:
        super().__init__()
        self.ttl_seconds = ttl_seconds
        self.redis: Any = None
        self.prefix = ""

    def first_time(self, update_id: Any) -> bool:
        """False for an update some replica already took; True (and claimed) otherwise."""
        if self.redis is None or not isinstance(update_id, int):
            return super().first_time(update_id)
        try:
            claimed = self.redis.set(
                f"{self.prefix}update:{update_id}", 1, nx=True, ex=self.ttl_seconds
            )
        except RedisError as error:
            logger.warning("telegram: Redis unavailable for update ids, using memory: %s", error)
            return super().first_time(update_id)
        return bool(claimed)


class SharedButtonPayloads(ButtonPayloads):
    """Long button payloads under short keys: in Redis for every replica, and in memory."""

    def __init__(self, ttl_seconds: int = BUTTON_TTL_SECONDS) -> None:
        super().__init__()
        self.ttl_seconds = ttl_seconds
        self.redis: Any = None
        self.prefix = ""

    def callback_data(self, payload: str) -> str:
        key = super().callback_data(payload)
        if self.redis is not None and key != payload:
            try:
                self.redis.set(f"{self.prefix}{key}", payload.encode(), ex=self.ttl_seconds)
            except RedisError as error:
                logger.warning("telegram: Redis unavailable, button kept in memory: %s", error)
        return key

    def payload(self, data: str) -> str | None:
        known = super().payload(data)
        if known is not None or self.redis is None:
            return known
        try:
            stored = self.redis.get(f"{self.prefix}{data}")
        except RedisError as error:
            logger.warning("telegram: Redis unavailable, button payload not found: %s", error)
            return None
        return stored.decode() if isinstance(stored, bytes) else stored


class TelegramState:
    """The channel's shared memory; `share_through` moves it into a Redis lock store's Redis."""

    def __init__(self) -> None:
        self.seen_updates = SharedSeenUpdates()
        self.buttons = SharedButtonPayloads()
        self.where = "memory"

    def share_through(self, lock_store: Any) -> bool:
        """Use the Redis of Rasa's lock store if it is one (it has `red` and `key_prefix`).

        Returns whether the state is in Redis now; any other lock store leaves it in memory.
        """
        if self.where == "redis":
            return True
        client = getattr(lock_store, "red", None)
        prefix = getattr(lock_store, "key_prefix", None)
        if client is None or not isinstance(prefix, str):
            return False
        namespace = key_namespace(prefix)
        for part in (self.seen_updates, self.buttons):
            part.redis, part.prefix = client, namespace
        self.where = "redis"
        logger.info(
            "telegram: update ids and button payloads shared in the lock store's Redis (%s*)",
            namespace,
        )
        return True
