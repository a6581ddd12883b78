"""Where the CLI writes: a terminal's width, or a wide page when piped so tables stay whole."""

from __future__ import annotations

import sys

from rich.console import Console


def console() -> Console:
    """A console for human-readable output."""
    return Console(width=None if sys.stdout.isatty() else 200)
