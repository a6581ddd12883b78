"""The telemetry sink: Kafka records in, batched ClickHouse inserts out, each row exactly once.

Three guards keep a redelivered event from becoming a second row, in the raw tables and in the rollups
their materialized views fill:

1. every insert carries a deduplication token made of the topic, partition and offset range of its
   rows, so an insert that is retried after a timeout is dropped by ClickHouse if it already landed;
2. a partition that was just assigned may replay records that were inserted but not committed (a crash
   between the two). Its records are looked up by event id before they are inserted, and the stored ones
   are left out. The lookup stops once a batch shows records past what was stored;
3. the raw tables are ReplacingMergeTrees whose sorting key ends in the event id, the last resort.

The embedded chDB may also have kept a crashed insert's raw rows without their rollup rows: when the
replay check finds stored rows, `RollupRepair` rebuilds the rollups of their days.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry, Counter

from llmops_common.errors import InvalidEventError
from llmops_common.kafka.batch_consumer import Record
from llmops_common.kafka.envelope import decode_event, decode_headers, parse_envelope
from llmops_common.kafka.frozen_record import freeze_record, thaw_record
from llmops_common.storage.errors import TelemetryQueryError
from llmops_common.storage.telemetry import TelemetryStore

from .rollup_repair import RollupRepair
from .sink_rows import PartitionKey, Row, built, deduplication_token, new_row, offset_of, partition_of
from .telemetry_rows import TableRoute

log = logging.getLogger(__name__)

DeadLetter = Callable[[Record, BaseException], Awaitable[None]]
"""Sends a record that cannot be stored to the dead-letter topic, with the reason."""


@dataclass
class PreparedBatch:
    """Records ready to write: rows by table, and the records to dead-letter with their reasons."""

    rows: defaultdict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    invalid: list[tuple[Record, InvalidEventError]] = field(default_factory=list)

    @classmethod
    def merged(cls, parts: Sequence[PreparedBatch]) -> PreparedBatch:
        """One batch holding every part's rows and invalid records, in order."""
        if len(parts) == 1:
            return parts[0]
        whole = cls()
        for part in parts:
            for table, rows in part.rows.items():
                whole.rows[table].extend(rows)
            whole.invalid.extend(part.invalid)
        return whole


@dataclass(frozen=True)
class SinkMetrics:
    """Counters of what the sink wrote, skipped and dead-lettered, by table."""

    rows: Counter
    replayed: Counter
    dead_lettered: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SinkMetrics:
        """The sink's counters in `registry`."""
        return cls(
            Counter("llmops_sink_rows", "Rows inserted into ClickHouse.", ["table"], registry=registry),
            Counter(
                "llmops_sink_replayed", "Redelivered events left out as already stored.", ["table"], registry=registry
            ),
            Counter(
                "llmops_sink_dead_lettered", "Records sent to the dead-letter topic.", ["topic"], registry=registry
            ),
        )


class TelemetrySink:
    """Writes batches of telemetry records into their tables; a `BatchSink` for `BatchConsumer`."""

    def __init__(
        self,
        store: TelemetryStore,
        routes: Mapping[str, TableRoute],
        dead_letter: DeadLetter,
        metrics: SinkMetrics,
        rollup_repair: RollupRepair | None = None,
    ) -> None:
        self._store = store
        self._rollup_repair = rollup_repair
        self._routes = routes
        self._dead_letter = dead_letter
        self._metrics = metrics
        self._replaying: set[TopicPartition] = set()
        self._blocking_tables = {route.table for route in routes.values() if route.blocking}

    def partitions_assigned(self, partitions: Sequence[TopicPartition]) -> None:
        """These partitions restart at their last commit: check their next records against the store."""
        self._replaying.update(partitions)

    def prepare(self, records: Sequence[Record]) -> PreparedBatch:
        """Decodes and validates each record and builds its row; invalid records are set aside."""
        batch = PreparedBatch()
        if not records:
            return batch
        # A poll returns the records of one partition at a time.
        route = self._routes[records[0].topic]
        accepted = route.accepted
        rows = batch.rows[route.table]
        for record in records:
            if record.value is None:
                continue  # a tombstone on a compacted topic deletes a key; it is no telemetry
            try:
                headers = decode_headers(record.headers)
                envelope = parse_envelope(headers)
                event = decode_event(envelope, record.value, accepted)
            except InvalidEventError as error:
                batch.invalid.append((record, error))
                continue
            if route.blocking:
                rows.append(new_row(b"", envelope, freeze_record(record), (route, envelope, event)))
            else:
                rows.append(new_row(route.row_line(envelope, event), envelope, freeze_record(record)))
        return batch

    async def write(self, parts: list[PreparedBatch]) -> None:
        """Inserts the rows, one insert per table, then dead-letters the invalid records.

        The parts are merged in place, and what went through is taken off, so a retried write resumes
        where this one stopped, with the same rows (and so the same deduplication token) per table.
        """
        parts[:] = [PreparedBatch.merged(parts)]
        batch = parts[0]
        while batch.rows:
            table = next(iter(batch.rows))
            if self._replaying:
                batch.rows[table] = await self._unstored(table, batch.rows[table])
            if table in self._blocking_tables:
                batch.rows[table] = await asyncio.to_thread(built, batch.rows[table])
            await self._insert(table, batch.rows[table])
            del batch.rows[table]
        while batch.invalid:
            record, error = batch.invalid[0]
            await self._send_to_dead_letter(record, error)
            batch.invalid.pop(0)

    async def _insert(self, table: str, rows: list[Row]) -> None:
        if not rows:
            return
        body = b"".join([line for line, *_ in rows])
        try:
            await asyncio.to_thread(
                self._store.insert_json_lines, table, body, deduplication_token=deduplication_token(rows)
            )
        except TelemetryQueryError as error:
            # ClickHouse refused the block, so some row in it is bad: find it row by row.
            log.warning("insert into %s refused (%s); inserting row by row", table, error.message)
            await self._insert_one_by_one(table, rows)
            return
        self._metrics.rows.labels(table).inc(len(rows))

    async def _insert_one_by_one(self, table: str, rows: list[Row]) -> None:
        for row in rows:
            line, _, _, source, _ = row
            try:
                await asyncio.to_thread(
                    self._store.insert_json_lines, table, line, deduplication_token=deduplication_token([row])
                )
            except TelemetryQueryError as error:
                await self._send_to_dead_letter(thaw_record(source), error)
            else:
                self._metrics.rows.labels(table).inc()

    async def _send_to_dead_letter(self, record: Record, error: BaseException) -> None:
        await self._dead_letter(record, error)
        self._metrics.dead_lettered.labels(record.topic).inc()

    async def _unstored(self, table: str, rows: list[Row]) -> list[Row]:
        """`rows` less those of replaying partitions whose event id the table already holds."""
        suspects = [row for row in rows if partition_of(row) in self._replaying]
        if suspects:
            await self._settle_unstored_partitions(table, suspects)
            suspects = [row for row in suspects if partition_of(row) in self._replaying]
        if not suspects:
            return rows
        stored = await asyncio.to_thread(self._stored_ids, table, suspects)
        self._stop_replaying_past(suspects, stored)
        if not stored:
            return rows
        if self._rollup_repair is not None:
            days = {row[2].astimezone(UTC).date() for row in suspects if row[1] in stored}
            await asyncio.to_thread(self._rollup_repair.repair, table, days)
        self._metrics.replayed.labels(table).inc(len(stored))
        left_out = {id(row) for row in suspects if row[1] in stored}
        return [row for row in rows if id(row) not in left_out]

    async def _settle_unstored_partitions(self, table: str, suspects: list[Row]) -> None:
        """Stops the replay of each partition whose first record here is not stored.

        What a crash left inserted but uncommitted is a run right after the commit, so when its first
        record is not stored, none is. A lookup of one id per partition then settles the common case
        (a restart after a clean stop); looking up a whole batch of ids took 100 to 200 ms per partition.
        """
        firsts: dict[PartitionKey, Row] = {}
        for row in suspects:
            firsts.setdefault(partition_of(row), row)
        stored = await asyncio.to_thread(self._stored_ids, table, list(firsts.values()))
        for partition, (_, event_id, _, _, _) in firsts.items():
            if event_id not in stored:
                self._replaying.discard(TopicPartition(*partition))

    def _stored_ids(self, table: str, suspects: list[Row]) -> set[str]:
        """The event ids among `suspects` that `table` holds; the time range lets ClickHouse skip partitions."""
        return {
            item["event_id"]
            for item in self._store.query(
                f"SELECT event_id FROM {table} WHERE event_time >= {{lo:DateTime64(3)}} "  # noqa: S608 - a route's table
                "AND event_time <= {hi:DateTime64(3)} AND event_id IN {ids:Array(String)}",
                {
                    "lo": min(event_time for _, _, event_time, _, _ in suspects),
                    "hi": max(event_time for _, _, event_time, _, _ in suspects),
                    "ids": [event_id for _, event_id, _, _, _ in suspects],
                },
            )
        }

    def _stop_replaying_past(self, suspects: list[Row], stored: set[str]) -> None:
        """A partition whose last record here is not stored is past the replayed range: stop checking it.

        What was inserted but not committed is a run of offsets right after the last commit, so the
        first record found unstored ends the replay.
        """
        last: dict[PartitionKey, Row] = {}
        for row in suspects:
            partition = partition_of(row)
            if partition not in last or offset_of(row) > offset_of(last[partition]):
                last[partition] = row
        for partition, (_, event_id, _, _, _) in last.items():
            if event_id not in stored:
                self._replaying.discard(TopicPartition(*partition))
