"""Ops queries over the embedded store: one SELECT, read-only, that stays in the store, within limits.

ClickHouse itself parses the query, twice, on the engine that will run it. First
`formatQuerySingleLine({q:String})`, with the text as a bound parameter so that nothing in it runs: it
refuses more than one statement and returns the statement without comments, as the parser read it. Only
that text goes on, so a `#` or `--` comment can hide nothing from the checks or from the run. Then
`EXPLAIN AST` of that text, whose tree `sql_ast` checks: one SELECT, no INTO OUTFILE, no SETTINGS, no
function that reaches files, the network or processes. The limits are then appended as the statement's
last `SETTINGS` clause, with `readonly = 1`, under which ClickHouse also refuses writes and setting changes.
A tenant admin's query is also scoped to its tenant's rows, by ClickHouse (see `tenant_sql`).

Every statement here runs on the ops query's own connection, so none waits for the telemetry sink's inserts
or holds them up (the analyzer may run scalar subqueries).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from llmops_common.storage.clickhouse_text import parameter_text, parse_json_each_row
from llmops_common.storage.errors import TelemetryQueryError

from .sql_ast import SqlRefusedError, checked_output_format, parse_explain_ast
from .tenant_sql import tenant_tables

__all__ = ["OpsConnection", "ReadOnlyQuery", "SqlLimits", "SqlRefusedError", "read_only_query"]

_REASON_CHARS = 300


class OpsConnection(Protocol):
    """A connection of an ops query's own to the embedded store (`ChdbConnection`)."""

    def query_bytes(self, sql: str, fmt: str, parameters: Mapping[str, str] | None = None) -> bytes:
        """Runs one statement with parameters in their HTTP text form; returns its output in `fmt`."""
        ...

    def stream(self, sql: str, fmt: str, parameters: Mapping[str, str] | None = None) -> Iterator[bytes]:
        """The output of one query in a streamable `fmt`, a block at a time."""
        ...

    def close(self) -> None:
        """Closes the connection."""
        ...


@dataclass(frozen=True)
class SqlLimits:
    """What one ops query may use."""

    max_result_rows: int
    max_execution_seconds: float
    max_memory_bytes: int
    max_result_bytes: int
    max_rows_to_read: int
    max_bytes_to_read: int
    max_threads: int

    def settings_clause(self) -> str:
        """The `SETTINGS` clause that enforces these limits, and read-only mode."""
        return (
            "SETTINGS readonly = 1, result_overflow_mode = 'throw', read_overflow_mode = 'throw', "
            f"max_result_rows = {self.max_result_rows}, max_result_bytes = {self.max_result_bytes}, "
            f"max_rows_to_read = {self.max_rows_to_read}, max_bytes_to_read = {self.max_bytes_to_read}, "
            f"max_execution_time = {self.max_execution_seconds:g}, max_memory_usage = {self.max_memory_bytes}, "
            f"max_threads = {self.max_threads}"
        )


@dataclass(frozen=True)
class ReadOnlyQuery:
    """A checked query ready to run (without a FORMAT clause), and the format it names (None: the caller's)."""

    sql: str
    output_format: str | None


def read_only_query(
    text: str,
    limits: SqlLimits,
    connection: OpsConnection,
    parameters: Mapping[str, str] | None = None,
    *,
    tenant: str | None = None,
) -> ReadOnlyQuery:
    """`text` as one limited, read-only SELECT, or `SqlRefusedError` saying why not.

    `parameters` are the query's own `{name:Type}` values (HTTP text form), which `EXPLAIN AST` needs to
    substitute an `Identifier` the way the run will. With `tenant`, the query reads that tenant's rows only
    (a tenant admin's); without, every tenant's (an operator's). Blocks: call it from a worker thread.
    """
    statement = _one_statement(text, connection)
    try:
        tree = connection.query_bytes(f"EXPLAIN AST {statement}", "TabSeparatedRaw", parameters).decode()
    except TelemetryQueryError as error:
        raise SqlRefusedError(f"the query cannot be parsed: {error.message[:_REASON_CHARS]}") from error
    nodes = parse_explain_ast(tree)
    output_format = checked_output_format(nodes)
    body = _without_format(statement, output_format)
    # The settings go on a line of their own, as the statement's last clause.
    settings = limits.settings_clause()
    if tenant is not None:
        scope = tenant_tables(connection, tenant)
        scope.check_names(nodes)
        settings = f"{settings}, {scope.settings()}"
        # Raises TelemetryQueryError for a query the analyzer refuses, as the run would.
        scope.check_tree(
            connection.query_bytes(f"EXPLAIN QUERY TREE {body}\n{settings}", "TabSeparatedRaw", parameters).decode()
        )
    return ReadOnlyQuery(f"{body}\n{settings}", output_format)


def _without_format(statement: str, output_format: str | None) -> str:
    """The statement less its FORMAT clause, which the parser prints last; the format is passed apart."""
    if output_format is None:
        return statement
    clause = f" FORMAT {output_format}"
    if not statement.endswith(clause):
        raise SqlRefusedError("the FORMAT clause must end the query")
    return statement.removesuffix(clause)


def _one_statement(text: str, connection: OpsConnection) -> str:
    """The one statement in `text`, without comments, as ClickHouse's parser printed it back."""
    if not text.strip():
        raise SqlRefusedError("send exactly one statement, not 0")
    try:
        output = connection.query_bytes(
            "SELECT formatQuerySingleLine({q:String}) AS q", "JSONEachRow", {"q": parameter_text(text)}
        )
    except TelemetryQueryError as error:
        reason = error.message[:_REASON_CHARS]
        if "Multi-statements are not allowed" in reason:
            raise SqlRefusedError(f"send exactly one statement: {reason}") from error
        raise SqlRefusedError(f"the query is not well formed: {reason}") from error
    [row] = parse_json_each_row(output)
    statement: str = row["q"]
    return statement
