"""The calendar windows budgets count in (UTC): the hour, the day and the month that hold a moment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from ..measurements import Window

WindowKind = Literal["hour", "day", "month"]


def calendar_window(kind: WindowKind, moment: datetime) -> Window:
    """The `kind` window that holds `moment`: [its start, the next one's start)."""
    if kind == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
        return Window(start, start + timedelta(hours=1))
    if kind == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return Window(start, start + timedelta(days=1))
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    after = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return Window(start, after)
