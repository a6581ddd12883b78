"""A record kept as a plain tuple: the collector stops tracking it, and it thaws to the same record."""

from __future__ import annotations

import gc

from aiokafka import ConsumerRecord

from llmops_common.kafka.frozen_record import freeze_record, thaw_record


def record() -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="llmops.inference.completed",
        partition=2,
        offset=41,
        timestamp=1_763_800_000_000,
        timestamp_type=0,
        key=b"req-1",
        value=b'{"a":1}',
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=7,
        headers=[("ce_id", b"e1"), ("ce_type", b"t"), ("null", None)],
    )


def test_a_frozen_record_thaws_to_the_same_record() -> None:
    assert thaw_record(freeze_record(record())) == record()


def test_the_collector_stops_tracking_a_frozen_record() -> None:
    frozen = freeze_record(record())
    # A tuple is untracked by a pass that finds its items untracked: at worst one pass per level of
    # nesting (header, headers, record).
    for _ in range(3):
        gc.collect()

    assert not gc.is_tracked(frozen)
