"""A Redis lock store whose tickets are issued and returned atomically, for several Rasa instances.

Why: Rasa 3.6's `RedisLockStore` keeps a conversation's ticket queue as one JSON value and
changes it by read-modify-write (GET, change in Python, SET) with no transaction. Two Rasa
instances that receive a message for the same conversation at the same moment both read the
empty queue, both issue ticket 0, and both process at once; the SQL tracker store then saves
only the first one's events (it appends "events beyond the stored count"), so the other user
message and its reply are lost although the user saw the reply. Returning a ticket has the same
race (a waiting instance's ticket is deleted and it fails with LockError). We measured both with
two instances on one Redis (tests/scale); within one instance there is no race, because the
calls are synchronous.

Here every change of the queue is a Redis optimistic transaction (WATCH/MULTI/EXEC, retried
on conflict); the waiting, lifetimes and key format are Rasa's own, so the two classes can
share a Redis during a rolling upgrade only at the risk of the race above. Configure it in the
endpoints file as `lock_store: type: lock_store.AtomicRedisLockStore` with the same keys as
`type: redis`; bot/ must be on Rasa's PYTHONPATH (deploy/Dockerfile.rasa copies it to /app,
which is).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

T = TypeVar("T")
logger = logging.getLogger(__name__)


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket lock with atomic queue changes (see the module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store named by module path
            kwargs = {
                "host": endpoint_config.url or "localhost",
                **endpoint_config.kwargs,
                **kwargs,
            }
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        """Apply `change` to the conversation's ticket queue in one Redis transaction.

        `change` may modify the lock in place; an empty queue deletes the key, as Rasa does.
        """
        key = self.key_prefix + conversation_id
        outcome: list[T] = []

        def transaction(pipe: Any) -> None:
            outcome.clear()
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else TicketLock(conversation_id)
            before = lock.dumps()
            outcome.append(change(lock))
            pipe.multi()
            if not lock.is_someone_waiting():
                if raw:
                    pipe.delete(key)
            elif not raw or lock.dumps() != before:
                pipe.set(key, lock.dumps())

        self.red.transaction(transaction, key)  # redis-py retries it on WatchError
        return outcome[0]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets (Rasa calls it while a message waits for the lock)."""
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket; the key goes with the last ticket (one step, not three).

        Rasa calls this after the message was processed and stored. If Redis cannot be reached
        now, raising would turn a stored answer into an error; the ticket expires by itself
        after its lifetime instead (and a restarted Redis has lost it anyway).
        """
        try:
            self.finish_serving(conversation_id, ticket_number)
        except RedisError as error:
            logger.warning(
                "lock store: ticket not returned (%s); it expires after its lifetime",
                type(error).__name__,
            )
