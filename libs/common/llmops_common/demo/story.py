"""How the demo tells what happens: a numbered chapter per stage, its story, progress bars, and the
time each chapter took."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


class Story:
    """Prints chapters to a console and keeps how long each took."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.durations: dict[str, float] = {}
        self._started = time.monotonic()

    @contextmanager
    def chapter(self, title: str, intro: str) -> Iterator[None]:
        """A chapter: its title and what is about to happen, then its duration when the block ends."""
        number = len(self.durations) + 1
        self.console.rule(f"[bold cyan]{number}. {title}", align="left")
        self.console.print(intro, highlight=False)
        started = time.monotonic()
        self.durations[title] = 0.0
        yield
        self.durations[title] = time.monotonic() - started
        self.console.print(f"[dim]({self.durations[title]:.0f} s)")

    def say(self, text: str) -> None:
        """One line of the story."""
        self.console.print(f"  {text}", highlight=False)

    def show(self, renderable: RenderableType) -> None:
        """A table or panel within the story."""
        self.console.print(renderable)

    def progress(self) -> Progress:
        """Bars with a count and the time spent, left on screen when done."""
        return Progress(
            SpinnerColumn(),
            TextColumn("  {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )

    def elapsed(self) -> float:
        """Seconds since the story began."""
        return time.monotonic() - self._started

    def summary(self) -> Table:
        """Each chapter's duration and the total."""
        table = Table(title="The demo, chapter by chapter", title_justify="left")
        table.add_column("chapter")
        table.add_column("seconds", justify="right")
        for title, seconds in self.durations.items():
            table.add_row(title, f"{seconds:.0f}")
        table.add_row("[bold]total", f"[bold]{self.elapsed():.0f}")
        return table
