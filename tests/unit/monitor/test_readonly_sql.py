"""Which ops queries the SQL endpoint runs, and the limits it puts on them."""

from __future__ import annotations

import pytest

from services.monitor.readonly_sql import ReadOnlyQuery, SqlLimits, SqlRefusedError, read_only_query

LIMITS = SqlLimits(max_result_rows=100, max_execution_seconds=2.5, max_memory_bytes=1 << 20)
CLAUSE = (
    "SETTINGS readonly = 1, result_overflow_mode = 'throw', max_result_rows = 100, "
    "max_execution_time = 2.5, max_memory_usage = 1048576"
)


def test_a_select_gets_the_limits_as_its_last_clause_without_its_comments() -> None:
    query = read_only_query("-- traffic\nSELECT count() FROM inference_completed /* all */ FORMAT Native;", LIMITS)

    expected = "SELECT count() FROM inference_completed   FORMAT Native\n" + CLAUSE  # noqa: S608 - a literal
    assert query == ReadOnlyQuery(expected, "Native")


def test_a_with_query_and_a_bracketed_select_are_selects() -> None:
    assert read_only_query("WITH 1 AS x SELECT x", LIMITS).output_format is None
    assert read_only_query("(SELECT 1) UNION ALL (SELECT 2)", LIMITS).sql.endswith(CLAUSE)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("DROP TABLE inference_completed", "only SELECT"),
        ("INSERT INTO alerts SELECT * FROM alerts", "only SELECT"),
        ("SET readonly = 0", "only SELECT"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("", "exactly one statement"),
        ("SELECT 'unterminated", "not well formed"),
        ("SELECT 1 /* an open comment", "not well formed"),
        ("SELECT * FROM alerts INTO OUTFILE '/tmp/x'", "INTO OUTFILE"),
    ],
)
def test_anything_but_one_select_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(SqlRefusedError, match=reason) as raised:
        read_only_query(text, LIMITS)

    assert raised.value.status_code == 400


def test_words_inside_string_literals_are_not_clauses() -> None:
    query = read_only_query("SELECT 'INTO OUTFILE x' AS note", LIMITS)

    assert query.sql == f"SELECT 'INTO OUTFILE x' AS note\n{CLAUSE}"
