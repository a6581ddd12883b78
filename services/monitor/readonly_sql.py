"""Ops queries over the embedded store: one SELECT, read-only, within row, time and memory limits.

The statement is parsed with the migrations' splitter, which drops comments and refuses unterminated
quotes or comments, so the text sent to ClickHouse is exactly one statement without comments. The limits
are then appended as the statement's last `SETTINGS` clause. It also sets `readonly = 1`, under which
ClickHouse refuses writes, table functions (`file`, `url`, ...) and any change of a setting, so a
`SETTINGS` clause of the query itself cannot lift them: the query fails instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmops_common.errors import PermanentError
from llmops_common.storage.errors import MigrationError
from llmops_common.storage.migrations import split_statements

_FIRST_WORD = re.compile(r"^\(*\s*(?P<word>[A-Za-z]+)")
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+(?P<format>[A-Za-z0-9_]+)\s*$", re.IGNORECASE)
_INTO_OUTFILE = re.compile(r"\bINTO\s+OUTFILE\b", re.IGNORECASE)
ALLOWED_FIRST_WORDS = frozenset({"SELECT", "WITH"})


class SqlRefusedError(PermanentError):
    """A query the ops endpoint does not run: not one SELECT, or not well formed."""

    status_code = 400
    code = "sql_refused"


@dataclass(frozen=True)
class SqlLimits:
    """What one ops query may use."""

    max_result_rows: int
    max_execution_seconds: float
    max_memory_bytes: int

    def settings_clause(self) -> str:
        """The `SETTINGS` clause that enforces these limits, and read-only mode."""
        return (
            "SETTINGS readonly = 1, result_overflow_mode = 'throw', "
            f"max_result_rows = {self.max_result_rows}, max_execution_time = {self.max_execution_seconds:g}, "
            f"max_memory_usage = {self.max_memory_bytes}"
        )


@dataclass(frozen=True)
class ReadOnlyQuery:
    """A checked query ready to run, and the output format it names (None: the caller's default)."""

    sql: str
    output_format: str | None


def read_only_query(text: str, limits: SqlLimits) -> ReadOnlyQuery:
    """`text` as one limited, read-only SELECT, or `SqlRefusedError` saying why not."""
    try:
        statements = split_statements(text)
    except MigrationError as error:
        raise SqlRefusedError(f"the query is not well formed: {error.message}") from error
    if len(statements) != 1:
        raise SqlRefusedError(f"send exactly one statement, not {len(statements)}")
    [statement] = statements
    first = _FIRST_WORD.match(statement)
    if first is None or first["word"].upper() not in ALLOWED_FIRST_WORDS:
        raise SqlRefusedError("only SELECT queries are served here", detail={"statement": statement[:200]})
    if _INTO_OUTFILE.search(_without_strings(statement)):
        raise SqlRefusedError("INTO OUTFILE is not served here")
    fmt = _TRAILING_FORMAT.search(statement)
    # The limits go on a line of their own, after any FORMAT clause, as the statement's last clause.
    return ReadOnlyQuery(f"{statement}\n{limits.settings_clause()}", fmt["format"] if fmt else None)


def _without_strings(statement: str) -> str:
    """`statement` with its '...' literals emptied, so words inside them are not mistaken for clauses."""
    return re.sub(r"'(?:[^'\\]|\\.)*'", "''", statement)
