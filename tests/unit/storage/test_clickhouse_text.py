"""Python values in the text forms ClickHouse reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

import pytest

from llmops_common.storage.clickhouse_text import (
    bindable,
    checked_table_name,
    clickhouse_datetime,
    json_each_row,
    parameter_text,
    parse_json_each_row,
)

PLUS_TWO = timezone(timedelta(hours=2))


def test_datetimes_are_written_in_utc_with_a_fraction_only_when_there_is_one() -> None:
    assert clickhouse_datetime(datetime(2026, 1, 1, 2, 0, tzinfo=PLUS_TWO)) == "2026-01-01 00:00:00"
    assert clickhouse_datetime(datetime(2026, 1, 1, 0, 0, 0, 1500, tzinfo=UTC)) == "2026-01-01 00:00:00.001500"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        clickhouse_datetime(datetime(2026, 1, 1))  # noqa: DTZ001 - the case under test


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\\N"),
        (True, "true"),
        (42, "42"),
        (1.5, "1.5"),
        ("it's\ta\\b\nc", "it\\'s\\ta\\\\b\\nc"),
        (date(2026, 3, 4), "2026-03-04"),
        (datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC), "2026-03-04 05:06:07.890000"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (["a'b", None, 3], "['a\\'b', NULL, 3]"),
        (("x", 1), "('x', 1)"),
    ],
)
def test_parameter_text(value: object, text: str) -> None:
    assert parameter_text(value) == text


def test_unknown_parameter_types_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot bind a dict"):
        parameter_text({"a": 1})


def test_rows_round_trip_through_json_each_row() -> None:
    rows: list[dict[str, object]] = [
        {"t": datetime(2026, 1, 1, tzinfo=UTC), "s": "é\n", "n": None},
        {"t": date(2026, 1, 2)},
    ]
    data = json_each_row(rows)
    assert data == b'{"t":"2026-01-01 00:00:00","s":"\xc3\xa9\\n","n":null}\n{"t":"2026-01-02"}\n'
    assert parse_json_each_row(data + b"\n") == [
        {"t": "2026-01-01 00:00:00", "s": "é\n", "n": None},
        {"t": "2026-01-02"},
    ]


def test_bindable_keeps_the_fraction_of_datetimes_clickhouse_connect_would_drop() -> None:
    moment = datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
    assert bindable([moment, "x"]) == ["2026-01-01 00:00:00.250000", "x"]


@pytest.mark.parametrize("name", ["events", "default.events", "_t1"])
def test_plain_table_names_pass(name: str) -> None:
    assert checked_table_name(name) == name


@pytest.mark.parametrize("name", ["", "t; DROP TABLE x", "a.b.c", "1t", "`t`"])
def test_other_table_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a plain table name"):
        checked_table_name(name)
