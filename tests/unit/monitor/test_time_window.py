"""Windows as people write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.monitor.service import summary_window
from services.monitor.time_window import InvalidWindowError, parse_window


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("90d", timedelta(days=90)),
    ],
)
def test_a_count_and_a_unit_is_a_window(text: str, window: timedelta) -> None:
    assert parse_window(text) == window


@pytest.mark.parametrize("text", ["", "1", "h", "0h", "1w", "1.5h", "-1h", "91d", "1h30m"])
def test_anything_else_is_refused_as_422(text: str) -> None:
    with pytest.raises(InvalidWindowError) as raised:
        parse_window(text)

    assert raised.value.status_code == 422


def test_the_summary_window_ends_after_the_running_minute() -> None:
    now = datetime(2026, 11, 22, 12, 30, 45, tzinfo=UTC)

    assert summary_window(now, timedelta(hours=1)) == (
        datetime(2026, 11, 22, 11, 31, tzinfo=UTC),
        datetime(2026, 11, 22, 12, 31, tzinfo=UTC),
    )
