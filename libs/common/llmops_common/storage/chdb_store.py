"""The telemetry store on chdb: ClickHouse embedded in this process, with its data in one folder."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .chdb_connection import ChdbConnection, text_parameters
from .clickhouse_text import (
    checked_table_name,
    json_each_row,
    json_insert_settings,
    parameter_text,
    parse_json_each_row,
)
from .errors import StoreUnavailableError, TelemetryQueryError


def _other_holder(path: Path) -> str | None:
    """The `PID: n` line of the process that locks the folder, if one does.

    chdb's own error says only "Error initializing EmbeddedServer"; ClickHouse keeps an flock on the
    `status` file, which holds the owner's PID, while a server has the folder open.
    """
    try:
        descriptor = os.open(path / "status", os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        status = (path / "status").read_text(errors="replace")
        return next((line for line in status.splitlines() if line.startswith("PID")), "unknown PID")
    finally:
        os.close(descriptor)
    return None


_IN_PROCESS_INSERT_SETTINGS = {"input_format_parallel_parsing": 0}
"""Parsing in parallel threads pays off on a server's cores; in process, the threads compete with the
caller's own (the telemetry sink's event loop), and one thread parsed a 10,000-row block 7% cheaper."""


class ChdbTelemetryStore:
    """ClickHouse embedded through chdb, persisted under `path`.

    Only one process may open a folder: chdb locks it, and a second process gets `StoreUnavailableError`.
    chdb also runs a single embedded server per process, so a process holds one folder at a time and must
    close it before opening another. The store's own calls are serialised, as one chdb connection is not
    meant for concurrent use; a long read takes a connection of its own (`connect`) and so never delays them.
    """

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._connection: ChdbConnection | None = ChdbConnection(path)
        except RuntimeError as error:
            holder = _other_holder(path)
            reason = f"another process ({holder}) holds it" if holder else str(error)
            raise StoreUnavailableError(f"chdb cannot open {path}: {reason}") from error

    def _run(self, sql: str, parameters: Mapping[str, object] | None) -> bytes:
        with self._lock:
            if self._connection is None:
                raise StoreUnavailableError(f"the chdb store at {self.path} is closed")
            return self._connection.query_bytes(sql, "JSONEachRow", text_parameters(parameters))

    def connect(self) -> ChdbConnection:
        """A connection of its own on the store's folder, for the caller to close: its queries (ops SQL)
        neither wait for the store's calls nor hold them up."""
        with self._lock:
            if self._connection is None:
                raise StoreUnavailableError(f"the chdb store at {self.path} is closed")
            return ChdbConnection(self.path)

    def command(self, sql: str, parameters: Mapping[str, object] | None = None) -> None:
        """Runs one statement that returns no rows."""
        self._run(sql, parameters)

    def query(self, sql: str, parameters: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """Runs one `SELECT` and returns its rows as dicts."""
        return parse_json_each_row(self._run(sql, parameters))

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, object]]) -> int:
        """Inserts `rows` in one `INSERT ... FORMAT JSONEachRow`."""
        if not rows:
            return 0
        body = json_each_row(rows).decode()
        self._run(f"INSERT INTO {checked_table_name(table)} FORMAT JSONEachRow\n{body}", None)
        return len(rows)

    def insert_json_lines(self, table: str, body: bytes, *, deduplication_token: str | None = None) -> None:
        """Inserts a JSONEachRow body in one `INSERT ... SETTINGS ... FORMAT JSONEachRow`."""
        if not body:
            return
        settings = ", ".join(
            f"{name} = {parameter_text(value, nested=True)}"
            for name, value in {**json_insert_settings(deduplication_token), **_IN_PROCESS_INSERT_SETTINGS}.items()
        )
        self._run(
            f"INSERT INTO {checked_table_name(table)} SETTINGS {settings} FORMAT JSONEachRow\n{body.decode()}", None
        )

    def ping(self) -> bool:
        """Whether the embedded server answers `SELECT 1`."""
        try:
            return self.query("SELECT 1 AS ok") == [{"ok": 1}]
        except (StoreUnavailableError, TelemetryQueryError):
            return False

    def close(self) -> None:
        """Closes the session, which releases the folder once no other session of this process uses it."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
