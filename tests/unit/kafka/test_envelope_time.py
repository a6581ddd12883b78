"""An envelope's time is an RFC 3339 time: with an offset, kept as given; without one, refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from llmops_common.errors import InvalidEventError
from llmops_common.kafka.envelope import parse_envelope


def headers(ce_time: str) -> dict[str, str]:
    return {"ce_id": "e1", "ce_type": "t", "ce_source": "s", "ce_specversion": "1.0", "ce_time": ce_time}


def test_a_time_with_an_offset_is_kept_with_it() -> None:
    time = parse_envelope(headers("2026-11-22T12:00:00.123456+02:00")).time

    assert time == datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert time == datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)


def test_a_time_without_an_offset_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="no UTC offset"):
        parse_envelope(headers("2026-11-22T12:00:00.5"))
