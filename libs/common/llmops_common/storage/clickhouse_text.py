"""Python values in the text forms ClickHouse reads: JSONEachRow rows and `{name:Type}` query parameters.

Both telemetry backends send what these functions produce, so a row or a parameter means the same to
chdb as to a ClickHouse server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

SESSION_SETTINGS: dict[str, str | int] = {
    # Columns and functions without an explicit zone read and print in UTC on every machine.
    "session_timezone": "UTC",
    # Rows from `model_dump(mode="json")` carry ISO 8601 times (`2026-01-01T00:00:00Z`).
    "date_time_input_format": "best_effort",
    # UInt64 counts come back as JSON numbers, not strings, from both backends.
    "output_format_json_quote_64bit_integers": 0,
}
"""Settings both backends run every statement under, so results are alike whatever the host's defaults."""


def json_insert_settings(deduplication_token: str | None) -> dict[str, str | int]:
    """Settings of a JSONEachRow insert: skip keys newer event versions add, and deduplicate by token."""
    settings: dict[str, str | int] = {"input_format_skip_unknown_fields": 1}
    if deduplication_token:
        settings["insert_deduplication_token"] = deduplication_token
        settings["deduplicate_blocks_in_dependent_materialized_views"] = 1
    return settings


_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
# The escapes of ClickHouse's "escaped" text format, in which parameter values travel.
_PARAMETER_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def checked_table_name(table: str) -> str:
    """`table` when it is a plain `[database.]name`; identifiers cannot be bound as parameters."""
    if not _TABLE_NAME.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    return table


def clickhouse_datetime(value: datetime) -> str:
    """`value` in UTC as `YYYY-MM-DD hh:mm:ss[.ffffff]`, which DateTime and DateTime64 both parse.

    The fraction is left out when it is zero, so whole-second values also fit a `DateTime` parameter.
    """
    if value.tzinfo is None:
        raise ValueError(f"datetime {value.isoformat()} has no time zone")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f" if value.microsecond else "%Y-%m-%d %H:%M:%S")


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return clickhouse_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot send a {type(value).__name__} to ClickHouse")


def json_each_row(rows: Iterable[Mapping[str, object]]) -> bytes:
    """Rows as JSONEachRow: one JSON object a line, keys naming columns."""
    return b"".join(
        json.dumps(row, default=_json_value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for row in rows
    )


def parse_json_each_row(data: bytes) -> list[dict[str, Any]]:
    """Rows from JSONEachRow output."""
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def bindable(value: object) -> object:
    """`value` ready for clickhouse-connect's server-side binding, which would drop a datetime's fraction."""
    if isinstance(value, datetime):
        return clickhouse_datetime(value)
    if isinstance(value, list | tuple):
        return type(value)(bindable(item) for item in value)
    return value


def parameter_text(value: object, *, nested: bool = False) -> str:
    """The text of a `{name:Type}` parameter value, as a ClickHouse server receives it over HTTP.

    Inside an array or tuple, strings are quoted and NULL is spelled out; at the top they are not.
    """
    if value is None:
        return "NULL" if nested else "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(parameter_text(item, nested=True) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(parameter_text(item, nested=True) for item in value) + ")"
    if isinstance(value, datetime):
        text = clickhouse_datetime(value)
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, str | UUID):
        text = str(value)
    else:
        raise TypeError(f"cannot bind a {type(value).__name__} as a ClickHouse parameter")
    escaped = text.translate(_PARAMETER_ESCAPES)
    return f"'{escaped}'" if nested else escaped
