"""The telemetry store on chdb: ClickHouse embedded in this process, with its data in one folder."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from chdb import session

from .clickhouse_text import (
    SESSION_SETTINGS,
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


class _QueryResult(Protocol):
    def bytes(self) -> bytes: ...


class _Session(Protocol):
    """The part of chdb's untyped `Session` this store uses."""

    def query(self, sql: str, fmt: str, *, params: dict[str, str] | None) -> _QueryResult: ...

    def close(self) -> None: ...


class ChdbTelemetryStore:
    """ClickHouse embedded through chdb, persisted under `path`.

    Only one process may open a folder: chdb locks it, and a second process gets `StoreUnavailableError`.
    chdb also runs a single embedded server per process, so a process holds one folder at a time and must
    close it before opening another. Calls are serialised, as one chdb connection is not thread-safe.
    """

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._session: _Session | None = session.Session(str(path))  # type: ignore[no-untyped-call]
        except RuntimeError as error:
            holder = _other_holder(path)
            reason = f"another process ({holder}) holds it" if holder else str(error)
            raise StoreUnavailableError(f"chdb cannot open {path}: {reason}") from error
        for name, value in SESSION_SETTINGS.items():
            self.command(f"SET {name} = {parameter_text(value, nested=True)}")

    def _run(
        self,
        sql: str,
        parameters: Mapping[str, object] | None,
        fmt: str = "JSONEachRow",
        *,
        text_parameters: Mapping[str, str] | None = None,
    ) -> bytes:
        params = {name: parameter_text(value) for name, value in (parameters or {}).items()}
        params.update(text_parameters or {})
        with self._lock:
            if self._session is None:
                raise StoreUnavailableError(f"the chdb store at {self.path} is closed")
            try:
                result = self._session.query(sql, fmt, params=params or None)
            except RuntimeError as error:  # chdb's ChdbError is a RuntimeError
                raise TelemetryQueryError(str(error), detail={"sql": sql[:1000]}) from error
        return result.bytes()

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

    def query_bytes(self, sql: str, fmt: str, text_parameters: Mapping[str, str] | None = None) -> bytes:
        """Runs one query and returns its output in ClickHouse format `fmt` (Native, TabSeparated, ...).

        `text_parameters` are `{name:Type}` values already in the text form a server's HTTP
        interface receives (`param_name=...`), passed on as they are. A FORMAT clause wins over `fmt`.
        """
        return self._run(sql, None, fmt, text_parameters=text_parameters)

    def ping(self) -> bool:
        """Whether the embedded server answers `SELECT 1`."""
        try:
            return self.query("SELECT 1 AS ok") == [{"ok": 1}]
        except (StoreUnavailableError, TelemetryQueryError):
            return False

    def close(self) -> None:
        """Closes the session, which releases the folder once no other session of this process uses it."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None
