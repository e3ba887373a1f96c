"""The atomic Redis lock store on a real, private redis-server, built as Rasa builds it.

Several Rasa processes racing for one conversation are tested in tests/scale/test_lock_store.py;
here the lock store's own behaviour: tickets in order, the key gone with the last ticket,
expired tickets dropped, and one holder at a time under threads that race for tickets.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid

import pytest
from lock_store import AtomicRedisLockStore
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore


def conversation() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def queue(store: AtomicRedisLockStore, conversation_id: str) -> list[int] | None:
    """The ticket numbers stored in Redis for a conversation; None when there is no key."""
    raw = store.red.get(store.key_prefix + conversation_id)
    return (
        None if raw is None else [t.number for t in TicketLock.from_dict(json.loads(raw)).tickets]
    )


def test_it_connects_with_the_endpoints_settings(store, redis_options) -> None:
    kwargs = store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == (
        redis_options["host"],
        redis_options["port"],
        1,
    )
    assert store.key_prefix.startswith("opastin:")
    assert store.red.ping()


def test_tickets_are_issued_in_order_and_the_key_goes_with_the_last(store) -> None:
    cid = conversation()
    assert [store.issue_ticket(cid), store.issue_ticket(cid), store.issue_ticket(cid)] == [0, 1, 2]
    assert queue(store, cid) == [0, 1, 2]
    assert store.get_lock(cid).now_serving == 0
    store.finish_serving(cid, 0)
    assert queue(store, cid) == [1, 2] and store.get_lock(cid).now_serving == 1
    store.cleanup(cid, 2)
    store.cleanup(cid, 1)
    assert queue(store, cid) is None, "no waiting ticket, no key"


def test_expired_tickets_are_dropped(store) -> None:
    cid = conversation()
    store.issue_ticket(cid, lock_lifetime=0.05)
    kept = store.issue_ticket(cid, lock_lifetime=60)
    time.sleep(0.1)
    store.update_lock(cid)
    assert queue(store, cid) == [kept]
    store.cleanup(cid, kept)
    store.issue_ticket(cid, lock_lifetime=0.05)
    time.sleep(0.1)
    store.update_lock(cid)
    assert queue(store, cid) is None


def race_for_tickets(store_class: type[RedisLockStore], redis_options: dict) -> list[int]:
    """Threads with a connection each (as separate Rasa instances) take tickets at once."""
    cid, threads, per_thread = conversation(), 6, 15
    stores = [store_class(**redis_options, db=1, key_prefix="race") for _ in range(threads)]
    tickets: list[int] = []
    start = threading.Barrier(threads)

    def take(own: RedisLockStore) -> None:
        start.wait()
        for _ in range(per_thread):
            tickets.append(own.issue_ticket(cid))

    workers = [threading.Thread(target=take, args=(own,)) for own in stores]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(tickets) == threads * per_thread
    return tickets


def test_racing_connections_get_distinct_tickets(redis_options, store) -> None:
    tickets = race_for_tickets(AtomicRedisLockStore, redis_options)
    assert sorted(tickets) == list(range(len(tickets))), "no ticket issued twice, none skipped"


def test_the_race_is_real_with_rasas_own_redis_lock_store(redis_options) -> None:
    """What ours exists for; if a Rasa upgrade fixes it, drop ours (and this test)."""
    tickets = race_for_tickets(RedisLockStore, redis_options)
    assert len(set(tickets)) < len(tickets), "Rasa's store issued no ticket twice this time"


def test_rasa_lock_admits_one_holder_at_a_time(store) -> None:
    cid, holders, log = conversation(), 0, []

    async def hold(name: str) -> None:
        nonlocal holders
        async with store.lock(cid, lock_lifetime=10, wait_time_in_seconds=0.01):
            holders += 1
            log.append((name, holders))
            await asyncio.sleep(0.05)
            holders -= 1

    async def main() -> None:
        await asyncio.gather(*(hold(f"m{i}") for i in range(4)))

    asyncio.run(main())
    assert [count for _, count in log] == [1, 1, 1, 1]
    assert queue(store, cid) is None


def test_an_unreachable_redis_is_a_lock_error() -> None:
    closed = AtomicRedisLockStore(host="127.0.0.1", port=1, socket_timeout=1)
    with pytest.raises(LockError, match="acquiring lock"):
        closed.issue_ticket(conversation())
