"""Rebuilds the rollups of a day whose raw rows a crash may have kept out of them (embedded chDB only).

In the embedded chDB, an INSERT writes the raw table's part and then one part per materialized view. A
SIGKILL in between keeps the raw rows without their rollup rows, and after the restart the sink finds
those rows stored and leaves them out: nothing would ever add them to the rollups. So the first time,
after a start, that the sink finds stored rows of a day, that day's rollups are rebuilt from the raw
table: their rows of the day are deleted and the view's own SELECT runs again over the day's raw rows.
Once per day and process is enough: every row stored before the start is in the rebuild, and every row
inserted after it went through the views whole. A kill during the rebuild leaves the batch uncommitted,
so its stored rows come back after the next start and the rebuild runs again.

Only the embedded store needs it, and only there is it safe: its one process is the only writer, while
a ClickHouse server finishes an INSERT it has received whatever happens to the client, and several
monitors may write to it at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from llmops_common.storage.telemetry import TelemetryStore

log = logging.getLogger(__name__)


class RollupViewError(RuntimeError):
    """A rollup's materialized view does not have the shape the repair re-runs."""


@dataclass(frozen=True)
class Rollup:
    """A table filled by a materialized view from a raw table, bucketed by `time_column` (a day or less)."""

    table: str
    view: str
    time_column: str


ROLLUPS: Mapping[str, tuple[Rollup, ...]] = {
    "inference_completed": (
        Rollup("inference_minute", "inference_minute_mv", "minute"),
        Rollup("cost_daily", "cost_daily_mv", "day"),
    ),
}
"""The rollups of each raw table (infra/clickhouse); a test checks that every view is listed."""


class RollupRepair:
    """Rebuilds, once per day and process, the rollups of a day that the sink found replayed rows of."""

    def __init__(self, store: TelemetryStore) -> None:
        self._store = store
        self._repaired: set[tuple[str, date]] = set()

    def repair(self, table: str, days: Iterable[date]) -> None:
        """Rebuilds `table`'s rollups for each of `days` not yet rebuilt by this process."""
        for day in sorted(set(days)):
            if (table, day) in self._repaired:
                continue
            rollups = ROLLUPS.get(table, ())
            for rollup in rollups:
                self._rebuild(table, rollup, day)
            if rollups:
                log.info("rebuilt the %s rollups of %s from its rows, some stored before this start", table, day)
            self._repaired.add((table, day))

    def _rebuild(self, source: str, rollup: Rollup, day: date) -> None:
        select = self._select_of_day(source, rollup)
        parameters = {"day": day}
        self._store.command(
            f"DELETE FROM {rollup.table} WHERE toDate({rollup.time_column}) = {{day:Date}}",  # noqa: S608 - ROLLUPS
            parameters,
        )
        # A rebuilt block may equal an earlier one byte for byte: it must not be taken for a retry.
        self._store.command(f"INSERT INTO {rollup.table} {select} SETTINGS insert_deduplicate = 0", parameters)

    def _select_of_day(self, source: str, rollup: Rollup) -> str:
        """The view's SELECT, reading only the day's rows of `source` (deduplicated, as FINAL reads them)."""
        rows = self._store.query(
            "SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = {view:String}",
            {"view": rollup.view},
        )
        if not rows:
            raise RollupViewError(f"materialized view {rollup.view} does not exist")
        # Every view in infra/clickhouse reads `FROM <source> AS src`, so that this one clause is replaced.
        clause = re.compile(rf"FROM\s+(?:`?\w+`?\.)?`?{re.escape(source)}`?\s+AS\s+src\b")
        day_rows = f"FROM (SELECT * FROM {source} FINAL WHERE toDate(event_time) = {{day:Date}}) AS src"  # noqa: S608
        select, found = clause.subn(day_rows, str(rows[0]["as_select"]))
        if found != 1:
            raise RollupViewError(f"materialized view {rollup.view} must read `FROM {source} AS src` once")
        return select
