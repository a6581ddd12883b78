"""Time windows written the way people say them: `15m`, `1h`, `24h`, `7d`."""

from __future__ import annotations

import re
from datetime import timedelta

from llmops_common.errors import PermanentError

_WINDOW = re.compile(r"^(?P<count>[1-9][0-9]{0,4})(?P<unit>[mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_WINDOW = timedelta(days=90)
"""The raw tables keep 90 days; a longer window would silently cover less."""


class InvalidWindowError(PermanentError):
    """A window that is not `<n>m`, `<n>h` or `<n>d`, or is longer than the data kept."""

    code = "invalid_window"


def parse_window(text: str) -> timedelta:
    """`text` (`30m`, `24h`, `7d`) as a duration of at most `MAX_WINDOW`."""
    match = _WINDOW.match(text.strip())
    if match is None:
        raise InvalidWindowError(
            f"window {text!r} is not a count and a unit (m, h or d), such as 15m, 24h or 7d", detail={"window": text}
        )
    window = int(match["count"]) * _UNITS[match["unit"]]
    if window > MAX_WINDOW:
        raise InvalidWindowError(f"window {text!r} is longer than the 90 days kept", detail={"window": text})
    return window
