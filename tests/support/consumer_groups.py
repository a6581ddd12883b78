"""What a consumer group has committed, and a rewind to offset 0, through plain aiokafka clients (Tansu
answers a consumer's offset fetch, not the admin client's, which it closes the connection on)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support.topic_reader import eventually, eventually_async


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of `topics`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()
        return [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    finally:
        await consumer.stop()


async def committed_total(bootstrap: str, group: str, topics: Sequence[str]) -> int:
    """The sum of the group's committed offsets over every partition of `topics` (0 where none): on a topic
    that only this test wrote to, the records the group has consumed and committed."""
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return sum([await consumer.committed(partition) or 0 for partition in partitions])
    finally:
        await consumer.stop()


async def group_lag(bootstrap: str, group: str, topics: Sequence[str], timeout: float = 10.0) -> int:
    """Records of `topics` past the group's committed offsets (a partition it never committed counts whole).

    The end of each partition is the high watermark of a fetch from the committed offset, not the answer
    to a list-offsets request: Tansu answers those short of the real end after pipelined produce requests
    (300 records published without waiting for each, say, report an end of about 210), and on S3 storage
    after a restart, while its fetches carry the right high watermark.
    """
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        committed = {partition: await consumer.committed(partition) or 0 for partition in partitions}
        consumer.assign(partitions)
        for partition, offset in committed.items():
            consumer.seek(partition, offset)
        async with asyncio.timeout(timeout):
            while any(consumer.highwater(partition) is None for partition in partitions):
                await consumer.getmany(timeout_ms=100, max_records=1)
        return sum((consumer.highwater(partition) or 0) - offset for partition, offset in committed.items())
    finally:
        await consumer.stop()


async def wait_caught_up(bootstrap: str, group: str, topics: Sequence[str], timeout: float) -> None:
    """Waits until the group's lag on `topics` is 0: it has committed every record they hold."""

    async def caught_up() -> bool:
        return await group_lag(bootstrap, group, topics) == 0

    await eventually_async(caught_up, timeout=timeout, interval=0.5)


async def rewind_to_zero(bootstrap: str, group: str, topics: Sequence[str], timeout: float = 30.0) -> None:
    """Commits offset 0 on every partition of `topics` for `group`, as `kafka-consumer-groups --reset-offsets
    --to-earliest` does: joins the group while none of its members runs, takes every partition, commits, leaves."""
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=1000,
        heartbeat_interval_ms=300,
    )
    await consumer.start()
    try:
        # The member is given the partitions by its coordinator's background task: poll until it has them.
        await eventually(lambda: set(consumer.assignment()) == set(partitions), timeout=timeout, interval=0.05)
        await consumer.commit(dict.fromkeys(partitions, 0))
    finally:
        await consumer.stop()
