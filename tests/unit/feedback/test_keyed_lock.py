"""`KeyedLock`: the same key waits its turn, other keys do not, and the map empties."""

from __future__ import annotations

import asyncio

from services.feedback_collector.keyed_lock import KeyedLock


async def test_the_same_key_is_serialised_and_released() -> None:
    locks, order = KeyedLock(), []

    async def work(key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    await asyncio.gather(work("a", "first", 0.05), work("a", "second", 0), work("b", "other", 0))

    assert order.index("second in") > order.index("first out")
    assert order.index("other in") < order.index("first out")
    assert len(locks) == 0
