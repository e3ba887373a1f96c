"""Race several processes for one conversation's lock in Redis; print what overlapped (JSON).

Run with Rasa's Python (.venvs/rasa): `python lock_race.py CLASS PROCESSES ROUNDS` with
REDIS_HOST, REDIS_PORT and REDIS_PASSWORD set; CLASS is `redis` (Rasa 3.6's RedisLockStore)
or `atomic` (bot/lock_store.py, imported from PYTHONPATH). Each round, every
process waits at a barrier, then takes the lock with Rasa's own `LockStore.lock` and, while
holding it, counts itself in and out of a Redis counter: a lock that works never sees more
than one holder, every process gets through every round (no LockError), and nobody waits
for a ticket that its holder already returned (a stall, until the ticket expires) or for
a ticket of its own that a concurrent write dropped (a hang: forever).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
import uuid
from typing import Any

LIFETIME = 3.0  # seconds a ticket lives (Rasa's default is 60): bounds a stalled round
STALL = 1.0  # four holders of 5 ms each never wait this long for a working lock
HANG = 2 * LIFETIME  # a round still waiting then will wait forever


def make_store(kind: str) -> Any:  # a Rasa LockStore
    options = {
        "host": os.environ["REDIS_HOST"],
        "port": int(os.environ["REDIS_PORT"]),
        "password": os.environ["REDIS_PASSWORD"],
        "db": 1,
        "key_prefix": "race",
    }
    if kind == "atomic":
        from lock_store import AtomicRedisLockStore

        return AtomicRedisLockStore(**options)
    from rasa.core.lock_store import RedisLockStore

    return RedisLockStore(**options)


def worker(kind: str, rounds: int, run_id: str, barrier: Any, results: Any) -> None:
    import redis

    store = make_store(kind)
    counter = redis.StrictRedis(
        host=os.environ["REDIS_HOST"],
        port=int(os.environ["REDIS_PORT"]),
        password=os.environ["REDIS_PASSWORD"],
        db=2,
    )
    overlaps = errors = stalls = hangs = done = 0

    async def one_round(conversation: str) -> None:
        nonlocal overlaps, errors, stalls, done
        started = time.monotonic()
        try:
            async with store.lock(conversation, lock_lifetime=LIFETIME, wait_time_in_seconds=0.01):
                if time.monotonic() - started > STALL:
                    stalls += 1  # waited for a ticket nobody held until it expired
                holders = counter.incr(conversation)
                if holders > 1:
                    overlaps += 1
                time.sleep(0.005)  # "process the message" while holding the lock
                counter.decr(conversation)
                done += 1
        except Exception as error:  # LockError: the lock vanished while we waited
            errors += 1
            print(f"{type(error).__name__}: {error}", file=sys.stderr)

    for round_number in range(rounds):
        barrier.wait()
        try:
            asyncio.run(asyncio.wait_for(one_round(f"{run_id}x{round_number}"), HANG))
        except asyncio.TimeoutError:
            hangs += 1  # its ticket was lost and the queue never serves it
    results.put(
        {"overlaps": overlaps, "errors": errors, "stalls": stalls, "hangs": hangs, "done": done}
    )


def main() -> None:
    kind, processes, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    context = multiprocessing.get_context("fork")
    run_id = uuid.uuid4().hex  # alphanumeric, like a conversation id; fresh keys every run
    barrier = context.Barrier(processes, timeout=60)
    results = context.Queue()
    workers = [
        context.Process(target=worker, args=(kind, rounds, run_id, barrier, results))
        for _ in range(processes)
    ]
    for process in workers:
        process.start()
    totals = {"overlaps": 0, "errors": 0, "stalls": 0, "hangs": 0, "done": 0}
    for _ in workers:
        for key, value in results.get(timeout=60).items():
            totals[key] += value
    for process in workers:
        process.join(30)
    print(json.dumps({"kind": kind, "expected": processes * rounds, **totals}))


if __name__ == "__main__":
    main()
