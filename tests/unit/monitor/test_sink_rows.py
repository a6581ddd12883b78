"""The sink's pending rows: the collector stops tracking them, and a batch's token names its records."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from llmops_common.events import FeedbackSubmittedV1
from llmops_common.kafka.envelope import Envelope
from llmops_common.kafka.frozen_record import freeze_record
from services.monitor.sink_rows import Row, built, deduplication_token, new_row, offset_of, partition_of
from services.monitor.telemetry_rows import TableRoute, model_with_envelope

AT = datetime(2026, 11, 22, 12, 0, 0, 123000, tzinfo=UTC)


def record(partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t", partition, offset, 0, 0, None, b"{}", None, 2, 0, [("ce_id", b"e")])


def row(partition: int, offset: int) -> Row:
    envelope = Envelope(id=f"e{offset}", type="t", source="s", time=AT)
    return new_row(b"{}\n", envelope, freeze_record(record(partition, offset)))


def test_a_row_knows_its_records_partition_and_offset() -> None:
    assert (partition_of(row(2, 41)), offset_of(row(2, 41))) == (("t", 2), 41)


def test_the_collector_stops_tracking_a_row() -> None:
    pending = [row(0, n) for n in range(3)]
    # A tuple is untracked by a pass that finds its items untracked: at worst one pass per level of
    # nesting (header, headers, record, row). A pending row lives through many.
    for _ in range(4):
        gc.collect()

    assert not any(gc.is_tracked(r) for r in pending)


def test_a_blocking_routes_line_is_built_at_write_time() -> None:
    event = FeedbackSubmittedV1(feedback_id="f", request_id="r", tenant="acme", score=5, submitted_at=AT)
    envelope = Envelope(id="e1", type=event.event_type, source="s", time=AT)
    route = TableRoute("feedback", (FeedbackSubmittedV1,), model_with_envelope, blocking=True)
    pending = new_row(b"", envelope, freeze_record(record(0, 1)), (route, envelope, event))

    [done] = built([pending, row(0, 2)])[:1]

    assert done == (model_with_envelope(envelope, event), "e1", AT, pending[3], None)


def test_the_deduplication_token_names_each_partitions_offsets_event_ids_and_the_row_count() -> None:
    rows = [row(1, 7), row(1, 8), row(0, 3), row(1, 10)]

    assert deduplication_token(rows) == "t:0:3-3:e3-e3;t:1:7-10:e7-e10#4"
    assert deduplication_token(rows[:3]) == "t:0:3-3:e3-e3;t:1:7-8:e7-e8#3"


def test_other_events_at_the_same_offsets_get_another_token() -> None:
    # A topic created again (or a broker that lost its data) numbers its records from 0 again.
    before = [row(0, 0), row(0, 1)]
    envelope = Envelope(id="other", type="t", source="s", time=AT)
    after = [new_row(b"{}\n", envelope, freeze_record(record(0, 0))), row(0, 1)]

    assert deduplication_token(before) != deduplication_token(after)
