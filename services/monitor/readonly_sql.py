"""Ops queries over the embedded store: one SELECT, read-only, that stays in the store, within limits.

ClickHouse itself parses the query, twice, on the engine that will run it. First
`formatQuerySingleLine({q:String})`, with the text as a bound parameter so that nothing in it runs: it
refuses more than one statement and returns the statement without comments, as the parser read it. Only
that text goes on, so a `#` or `--` comment can hide nothing from the checks or from the run. Then
`EXPLAIN AST` of that text, whose tree `sql_ast` checks: one SELECT, no INTO OUTFILE, no SETTINGS, no
function that reaches files, the network or processes. The limits are then appended as the statement's
last `SETTINGS` clause, with `readonly = 1`, under which ClickHouse also refuses writes and setting changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from llmops_common.storage.errors import TelemetryQueryError

from .sql_ast import SqlRefusedError, checked_output_format, parse_explain_ast

__all__ = ["OpsStore", "ReadOnlyQuery", "SqlLimits", "SqlRefusedError", "read_only_query"]

_REASON_CHARS = 300


class OpsStore(Protocol):
    """The part of the embedded store (`ChdbTelemetryStore`) that ops queries use."""

    def query(self, sql: str, parameters: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """Runs one SELECT with bound parameters and returns its rows."""
        ...

    def query_bytes(self, sql: str, fmt: str, text_parameters: Mapping[str, str] | None = None) -> bytes:
        """Runs one query with parameters in their HTTP text form and returns its output in `fmt`."""
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
    """A checked query ready to run, and the output format it names (None: the caller's default)."""

    sql: str
    output_format: str | None


def read_only_query(
    text: str, limits: SqlLimits, store: OpsStore, parameters: Mapping[str, str] | None = None
) -> ReadOnlyQuery:
    """`text` as one limited, read-only SELECT, or `SqlRefusedError` saying why not.

    `parameters` are the query's own `{name:Type}` values (HTTP text form), which `EXPLAIN AST` needs to
    substitute an `Identifier` the way the run will. Blocks: call it from a worker thread.
    """
    statement = _one_statement(text, store)
    try:
        tree = store.query_bytes(f"EXPLAIN AST {statement}", "TabSeparatedRaw", parameters).decode()
    except TelemetryQueryError as error:
        raise SqlRefusedError(f"the query cannot be parsed: {error.message[:_REASON_CHARS]}") from error
    output_format = checked_output_format(parse_explain_ast(tree))
    # The limits go on a line of their own, after any FORMAT clause, as the statement's last clause.
    return ReadOnlyQuery(f"{statement}\n{limits.settings_clause()}", output_format)


def _one_statement(text: str, store: OpsStore) -> str:
    """The one statement in `text`, without comments, as ClickHouse's parser printed it back."""
    if not text.strip():
        raise SqlRefusedError("send exactly one statement, not 0")
    try:
        [row] = store.query("SELECT formatQuerySingleLine({q:String}) AS q", {"q": text})
    except TelemetryQueryError as error:
        reason = error.message[:_REASON_CHARS]
        if "Multi-statements are not allowed" in reason:
            raise SqlRefusedError(f"send exactly one statement: {reason}") from error
        raise SqlRefusedError(f"the query is not well formed: {reason}") from error
    statement: str = row["q"]
    return statement
