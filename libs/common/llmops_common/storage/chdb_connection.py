"""One chdb session on a store's folder: statements, and queries whose output streams in blocks.

chdb runs one embedded server per process, and every session on the same folder shares it. Each session
is a connection of its own, though: a query on one does not wait for a statement on another, which is
what lets a slow ops query run beside the telemetry sink's inserts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from chdb import session

from .clickhouse_text import SESSION_SETTINGS, parameter_text
from .errors import StoreUnavailableError, TelemetryQueryError

STREAMABLE_FORMATS = frozenset(
    {
        *("Native", "RowBinary", "TabSeparated", "TSV", "TabSeparatedRaw", "TSVRaw", "CSV"),
        *("JSONEachRow", "JSONLines", "NDJSON", "JSONCompactEachRow", "JSONStringsEachRow"),
    }
)
"""Formats whose blocks, each printed on its own, join into the whole output. chdb prints every streamed
block as a document of its own, so `JSON`, `CSVWithNames` and the like repeat their header per block."""


class _QueryResult(Protocol):
    def bytes(self) -> bytes: ...


class _StreamingResult(Protocol):
    def fetch(self) -> _QueryResult | None: ...

    def cancel(self) -> None: ...


class _Session(Protocol):
    """The part of chdb's untyped `Session` used here."""

    def query(self, sql: str, fmt: str, *, params: dict[str, str] | None) -> _QueryResult: ...

    def send_query(self, sql: str, fmt: str, *, params: dict[str, str] | None) -> _StreamingResult: ...

    def close(self) -> None: ...


def text_parameters(parameters: Mapping[str, object] | None) -> dict[str, str]:
    """`{name:Type}` values in the text form chdb, like a server's HTTP interface, receives."""
    return {name: parameter_text(value) for name, value in (parameters or {}).items()}


class ChdbConnection:
    """A chdb session on the folder at `path`, under the platform's session settings.

    Raises `RuntimeError` (chdb's) when the folder cannot be opened. Not meant for concurrent use: give
    each thread of work a connection of its own, which costs about a millisecond to open.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._session: _Session | None = session.Session(str(path))  # type: ignore[no-untyped-call]
        for name, value in SESSION_SETTINGS.items():
            self.query_bytes(f"SET {name} = {parameter_text(value, nested=True)}", "TabSeparated")

    def query_bytes(self, sql: str, fmt: str, parameters: Mapping[str, str] | None = None) -> bytes:
        """Runs one statement and returns its whole output in ClickHouse format `fmt`.

        `parameters` are `{name:Type}` values in their text form (see `text_parameters`). A FORMAT clause
        in `sql` wins over `fmt`.
        """
        try:
            result = self._open().query(sql, fmt, params=dict(parameters or {}) or None)
        except RuntimeError as error:  # chdb's ChdbError is a RuntimeError
            raise TelemetryQueryError(str(error), detail={"sql": sql[:1000]}) from error
        return result.bytes()

    def stream(self, sql: str, fmt: str, parameters: Mapping[str, str] | None = None) -> Iterator[bytes]:
        """The output of one query in `fmt` (one of `STREAMABLE_FORMATS`), a block at a time.

        Nothing runs until the first `next`. Closing the iterator before its end cancels the query.
        """
        if fmt not in STREAMABLE_FORMATS:
            raise ValueError(f"{fmt} output does not stream: its blocks do not join into one document")
        return self._blocks(sql, fmt, dict(parameters or {}))

    def _blocks(self, sql: str, fmt: str, parameters: dict[str, str]) -> Iterator[bytes]:
        try:
            result = self._open().send_query(sql, fmt, params=parameters or None)
        except RuntimeError as error:
            raise TelemetryQueryError(str(error), detail={"sql": sql[:1000]}) from error
        finished = False
        try:
            while True:
                try:
                    block = result.fetch()
                except RuntimeError as error:
                    finished = True  # a failed query is over: nothing is left to cancel
                    raise TelemetryQueryError(str(error), detail={"sql": sql[:1000]}) from error
                if block is None:
                    finished = True
                    return
                if data := block.bytes():
                    yield data
        finally:
            if not finished:
                result.cancel()

    def _open(self) -> _Session:
        if self._session is None:
            raise StoreUnavailableError(f"the chdb connection to {self.path} is closed")
        return self._session

    def close(self) -> None:
        """Closes the session; the folder stays open while another session of this process uses it."""
        if self._session is not None:
            self._session.close()
            self._session = None
