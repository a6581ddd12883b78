"""Budget windows on the calendar, and the query link an alert carries."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from services.monitor.detectors.calendar_windows import calendar_window
from services.monitor.measurements import Query, Window
from services.monitor.query_links import query_url

MOMENT = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)


def test_each_window_holds_the_moment_and_ends_at_the_next_boundary() -> None:
    assert calendar_window("hour", MOMENT) == Window(
        datetime(2026, 12, 31, 23, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert calendar_window("day", MOMENT) == Window(
        datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert calendar_window("month", MOMENT) == Window(
        datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert calendar_window("month", datetime(2026, 2, 10, tzinfo=UTC)).end == datetime(2026, 3, 1, tzinfo=UTC)


def test_a_query_link_binds_the_parameters_the_clickhouse_way() -> None:
    query = Query(
        "SELECT count()\n  FROM inference_completed\n WHERE model_name = {model:String}"
        " AND event_time >= {start:DateTime64(3)}",
        {"model": "it's-bot", "start": datetime(2026, 11, 22, 12, 0, 0, 250_000, tzinfo=UTC)},
    )

    url = query_url("http://monitor:8007/", query)

    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("monitor:8007", "/")
    assert parse_qs(parts.query) == {
        "query": [
            "SELECT count() FROM inference_completed WHERE model_name = {model:String} "
            "AND event_time >= {start:DateTime64(3)}"
        ],
        "param_model": ["it\\'s-bot"],
        "param_start": ["2026-11-22 12:00:00.250000"],
    }
