"""A consumed record kept as a plain tuple, for consumers that hold many records for a while.

CPython's cycle collector rescans every tracked object at each full collection. A `ConsumerRecord`
(with its header list) is tracked, so a sink holding tens of thousands of them paid about 70 ms per full
collection here, several times per 100,000 events. A plain tuple of strings, bytes, numbers and such
tuples is untracked by the first collections it survives, and never scanned again.
"""

from __future__ import annotations

from typing import TypeAlias

from aiokafka import ConsumerRecord

FrozenRecord: TypeAlias = tuple[
    str, int, int, int, int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]
]
"""topic, partition, offset, timestamp, timestamp type, key, value, headers."""


def freeze_record(record: ConsumerRecord[bytes, bytes]) -> FrozenRecord:
    """What a record carries, as a plain tuple."""
    return (
        record.topic,
        record.partition,
        record.offset,
        record.timestamp,
        record.timestamp_type,
        record.key,
        record.value,
        tuple(record.headers),
    )


def frozen_offset(frozen: FrozenRecord) -> int:
    """The record's offset in its partition."""
    return frozen[2]


def thaw_record(frozen: FrozenRecord) -> ConsumerRecord[bytes, bytes]:
    """The record again, for code that takes a `ConsumerRecord` (dead-lettering)."""
    topic, partition, offset, timestamp, timestamp_type, key, value, headers = frozen
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=timestamp_type,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key) if key is not None else -1,
        serialized_value_size=len(value) if value is not None else -1,
        headers=list(headers),
    )
