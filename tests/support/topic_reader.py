"""Reads what landed on a topic, straight through aiokafka, so tests see exactly what consumers see."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_topic(
    bootstrap: str, topic: str, count: int, timeout: float = 15.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic`, read from the beginning without a consumer group."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            records += [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()
    return records


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    """A record's headers as a dict of strings."""
    return {name: (value or b"").decode() for name, value in record.headers}


async def eventually(predicate: object, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Waits until `predicate()` is true, or fails the test."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        await asyncio.sleep(interval)


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float = 10.0, interval: float = 0.2) -> None:
    """Waits until `await check()` is true, or fails the test."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        await asyncio.sleep(interval)


async def read_matching(
    bootstrap: str,
    topic: str,
    matches: Callable[[ConsumerRecord[bytes, bytes]], bool],
    count: int,
    timeout: float = 15.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic` that `matches` accepts (others' records are skipped)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            found += [record for batch in batches.values() for record in batch if matches(record)]
    finally:
        await consumer.stop()
    return found[:count]


async def read_keyed(
    bootstrap: str, topic: str, key: str, count: int, timeout: float = 15.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic` with `key` (other tests' records are skipped)."""
    return await read_matching(bootstrap, topic, lambda record: record.key == key.encode(), count, timeout)
