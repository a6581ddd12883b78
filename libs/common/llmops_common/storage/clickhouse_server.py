"""The telemetry store on a ClickHouse server, over HTTP with clickhouse-connect."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from .clickhouse_text import (
    SESSION_SETTINGS,
    bindable,
    checked_table_name,
    json_each_row,
    json_insert_settings,
    parse_json_each_row,
)
from .errors import StoreConfigError, StoreUnavailableError, TelemetryQueryError


def _without_credentials(url: str) -> str:
    """`url` fit for a log line: the user and password left out."""
    parsed = urlparse(url)
    port = f":{parsed.port}" if parsed.port else ""
    return parsed._replace(netloc=f"{parsed.hostname or ''}{port}").geturl()


def _bound(parameters: Mapping[str, object] | None) -> dict[str, object] | None:
    return {name: bindable(value) for name, value in parameters.items()} if parameters else None


class ClickHouseServerTelemetryStore:
    """A ClickHouse server at `url` (`http://user:password@host:8123/database`), shared by any number of
    processes. Without an HTTP session, statements may run from several threads at once."""

    def __init__(self, url: str) -> None:
        try:
            self._client = clickhouse_connect.get_client(
                dsn=url, settings=dict(SESSION_SETTINGS), autogenerate_session_id=False
            )
        except OperationalError as error:
            where = _without_credentials(url)
            raise StoreUnavailableError(f"ClickHouse at {where} does not answer: {error}") from error
        except DatabaseError as error:  # a wrong password or database: no retry helps
            raise StoreConfigError(f"ClickHouse at {_without_credentials(url)} refused us: {error}") from error

    def command(self, sql: str, parameters: Mapping[str, object] | None = None) -> None:
        """Runs one statement that returns no rows."""
        with _translated_errors(sql):
            self._client.command(sql, parameters=_bound(parameters))

    def query(self, sql: str, parameters: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """Runs one `SELECT` and returns its rows as dicts, decoded from JSONEachRow as chdb's are."""
        with _translated_errors(sql):
            data = self._client.raw_query(sql, parameters=_bound(parameters), fmt="JSONEachRow")
        return parse_json_each_row(data)

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, object]]) -> int:
        """Inserts `rows` in one INSERT, sent as a JSONEachRow body."""
        if not rows:
            return 0
        with _translated_errors(f"INSERT INTO {table}"):
            self._client.raw_insert(checked_table_name(table), insert_block=json_each_row(rows), fmt="JSONEachRow")
        return len(rows)

    def insert_json_lines(self, table: str, body: bytes, *, deduplication_token: str | None = None) -> None:
        """Inserts a JSONEachRow body in one INSERT, with the deduplication token as a setting."""
        if not body:
            return
        with _translated_errors(f"INSERT INTO {table}"):
            self._client.raw_insert(
                checked_table_name(table),
                insert_block=body,
                settings=json_insert_settings(deduplication_token),
                fmt="JSONEachRow",
            )

    def ping(self) -> bool:
        """Whether the server answers its `/ping` endpoint."""
        return bool(self._client.ping())

    def close(self) -> None:
        """Closes the HTTP connection pool."""
        self._client.close()


@contextlib.contextmanager
def _translated_errors(sql: str) -> Iterator[None]:
    """Maps clickhouse-connect's errors onto the platform's: a lost connection may pass, bad SQL won't."""
    try:
        yield
    except OperationalError as error:
        raise StoreUnavailableError(f"ClickHouse does not answer: {error}") from error
    except DatabaseError as error:
        raise TelemetryQueryError(str(error), detail={"sql": sql[:1000]}) from error
