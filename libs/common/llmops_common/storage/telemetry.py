"""The telemetry store: ClickHouse SQL over chdb (embedded) or a ClickHouse server, one interface for both.

Both backends run the same SQL. Parameters use ClickHouse's server-side `{name:Type}` syntax, rows go in
as JSONEachRow and results come back as JSONEachRow decoded to dicts, so a query returns the same rows
whichever backend answers it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from llmops_common.settings import PlatformSettings

from .migrations import apply_migrations, load_migrations

Parameters = Mapping[str, object]
Row = dict[str, Any]


class TelemetryStore(Protocol):
    """ClickHouse SQL, embedded or on a server. Calls block; async code runs them in a worker thread."""

    def command(self, sql: str, parameters: Parameters | None = None) -> None:
        """Runs one statement that returns no rows (DDL, `INSERT ... SELECT`, `OPTIMIZE`)."""
        ...

    def query(self, sql: str, parameters: Parameters | None = None) -> list[Row]:
        """Runs one `SELECT` and returns its rows as dicts keyed by column name."""
        ...

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, object]]) -> int:
        """Inserts `rows` in one INSERT (one part on disk) and returns how many went in."""
        ...

    def insert_json_lines(self, table: str, body: bytes, *, deduplication_token: str | None = None) -> None:
        """Inserts a JSONEachRow `body` (one JSON object a line) in one INSERT; unknown keys are skipped.

        A block inserted again with the same `deduplication_token` is dropped by ClickHouse, in the table
        and in the materialized views it feeds (the table needs `non_replicated_deduplication_window`).
        """
        ...

    def ping(self) -> bool:
        """Whether the store answers a trivial query now; for `/readyz`."""
        ...

    def close(self) -> None:
        """Releases the connection; for chdb, also the folder lock."""
        ...


def open_telemetry_store(settings: PlatformSettings, state_dir: Path, *, migrate: bool = True) -> TelemetryStore:
    """The ClickHouse server at `settings.clickhouse_url` when set, else chdb in `state_dir/clickhouse`.

    With `migrate`, the migrations in `settings.clickhouse_migrations_dir` that are not yet applied run
    first. The chdb folder is locked by the opening process: give each service its own `state_dir`.
    """
    store: TelemetryStore
    if settings.clickhouse_url:
        from .clickhouse_server import ClickHouseServerTelemetryStore

        store = ClickHouseServerTelemetryStore(settings.clickhouse_url)
    else:
        from .chdb_store import ChdbTelemetryStore

        store = ChdbTelemetryStore(state_dir / "clickhouse")
    if migrate:
        try:
            apply_migrations(store, load_migrations(settings.clickhouse_migrations_dir))
        except BaseException:
            store.close()
            raise
    return store
