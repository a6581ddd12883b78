"""How a fine-tune looks on the console: a progress bar line while it runs, a summary once it ended."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .training_jobs import TrainingJob

BAR_WIDTH = 30
SHORT_HASH = 12
"""Characters of a version hash shown; enough to tell versions apart, as git's short hashes are."""


def job_renderable(job: TrainingJob) -> RenderableType:
    """The job's current state: a progress line, a waiting line, or the outcome."""
    if job.completed is not None:
        return outcome(job)
    if job.progress is not None:
        return progress_line(job)
    if job.requested is not None:
        request = job.requested
        return Text(
            f"{job.job_id}: requested, waiting for the trainer "
            f"({request.model_name} on {request.dataset}@{request.dataset_version[:SHORT_HASH]})" + cancel_note(job)
        )
    return Text(f"{job.job_id}: nothing on the training topics yet, waiting" + cancel_note(job))


def progress_line(job: TrainingJob) -> RenderableType:
    """One line: job id, bar, steps, loss, learning rate, tokens per second and time left."""
    progress = job.progress
    if progress is None:
        raise ValueError(f"{job.job_id} has no progress yet")
    line = Table.grid(padding=(0, 1))
    figures: list[RenderableType] = [
        Text(job.job_id),
        ProgressBar(total=progress.total_steps, completed=progress.step, width=BAR_WIDTH),
        f"{progress.step}/{progress.total_steps} steps",
        f"{progress.step / progress.total_steps:.0%}",
        "loss " + ("-" if progress.loss is None else f"{progress.loss:.4f}"),
        "lr " + ("-" if progress.learning_rate is None else f"{progress.learning_rate:.2e}"),
        ("-" if progress.tokens_per_second is None else f"{progress.tokens_per_second:,.0f}") + " tok/s",
        "ETA " + ("-" if progress.eta_seconds is None else duration_text(progress.eta_seconds)),
    ]
    if job.cancel_reason is not None:
        figures.append(Text(f"cancel requested: {job.cancel_reason}", style="yellow"))
    for _ in figures:
        line.add_column(no_wrap=True)
    line.add_row(*figures)
    return line


def outcome(job: TrainingJob) -> RenderableType:
    """A finished job: the adapter and metrics it made, or the error it failed with."""
    completed = job.completed
    if completed is None:
        raise ValueError(f"{job.job_id} has not completed")
    took = duration_text(completed.duration_seconds)
    if completed.status == "failed":
        return Text(job.job_id) + Text.from_markup(f": [red]failed[/] after {took}: ") + Text(completed.error or "-")
    head = Text(job.job_id) + Text.from_markup(f": [green]succeeded[/] in {took}")
    details = Table.grid(padding=(0, 2))
    details.add_column(style="dim")
    details.add_column()
    adapter_uri = f"  {completed.adapter.uri}" if completed.adapter else ""
    rows = [
        ("model", f"{completed.model_name} (base {completed.base_model})"),
        ("adapter", f"{completed.adapter_version or '-'}{adapter_uri}"),
    ]
    if completed.dataset:
        rows.append(("dataset", f"{completed.dataset}@{(completed.dataset_version or '-')[:SHORT_HASH]}"))
    if completed.steps is not None:
        rows.append(("steps", str(completed.steps)))
    metrics = ", ".join(f"{name} {value:.4g}" for name, value in sorted(completed.metrics.items()))
    rows.append(("metrics", metrics or "-"))
    for name, value in rows:
        # Text, not markup: names and errors come from events and may hold brackets.
        details.add_row(name, Text(value))
    return Group(head, details)


def cancel_note(job: TrainingJob) -> str:
    """A note that a cancel was asked for, when one was."""
    return "" if job.cancel_reason is None else f"; cancel requested: {job.cancel_reason}"


def duration_text(seconds: float) -> str:
    """Seconds as H:MM:SS, as rich's progress columns show time."""
    return str(timedelta(seconds=round(seconds)))
