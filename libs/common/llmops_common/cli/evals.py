"""`llmops eval list|show`: evaluation runs and promotion-gate verdicts, read from llmops.eval.completed.

The topic is the source of truth, and each run's Markdown report and PNG chart lie in the artifact
store its event names (claim checks), so the command reads the same settings as the evaluator.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown

from ..errors import LlmopsError
from ..events import EvalCompletedV1
from ..kafka.topic_scan import read_to_end
from ..settings import PlatformSettings
from ..storage.artifacts import open_artifact_store
from ..topics import EVAL_COMPLETED
from .console import console
from .eval_render import evaluation_summary, evaluations_table
from .kafka_calls import run_on_kafka

eval_app = typer.Typer(
    help="Evaluation runs: list them with their gate verdicts, show one's report.",
    no_args_is_help=True,
    add_completion=False,
)


@eval_app.command("list")
def list_evaluations(
    model: Annotated[str | None, typer.Option(help="Only this deployed model's runs.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's runs.")] = None,
) -> None:
    """Lists evaluation runs, oldest first: candidate vs baseline, primary metric delta, gate verdict."""
    runs = [
        (event, at)
        for event, at in evaluations(PlatformSettings()).values()
        if (model is None or event.model_name == model) and (tenant is None or event.tenant == tenant)
    ]
    if not runs:
        typer.echo("no evaluations match" if model or tenant else f"no evaluations on {EVAL_COMPLETED.name}")
        return
    console().print(evaluations_table(sorted(runs, key=lambda run: run[1])))


@eval_app.command()
def show(
    eval_id: Annotated[str, typer.Argument(help="The eval id `eval list` shows.")],
    png: Annotated[
        Path | None,
        typer.Option(help="Where to write the report's chart; <eval id>.png here by default.", dir_okay=False),
    ] = None,
) -> None:
    """Prints a run's Markdown report (or its metrics and gate reasons) and writes its chart as a PNG."""
    settings = PlatformSettings()
    found = evaluations(settings).get(eval_id)
    if found is None:
        typer.echo(f"error: no evaluation {eval_id!r} on {EVAL_COMPLETED.name}", err=True)
        raise typer.Exit(1)
    event, at = found
    out = console()
    store = open_artifact_store(settings)
    report = None
    if event.report is not None:
        try:
            report = store.get_bytes(event.report).decode()
        except (LlmopsError, OSError, UnicodeDecodeError) as error:
            typer.echo(f"warning: cannot read the report {event.report.uri}: {error}; showing the metrics", err=True)
    out.print(Markdown(report) if report is not None else evaluation_summary(event, at))
    if event.report_chart is None:
        if png is not None:
            typer.echo(f"error: evaluation {eval_id} has no chart to write to {png}", err=True)
            raise typer.Exit(1)
        return
    target = png or Path(f"{eval_id.replace('/', '_')}.png")
    try:
        store.fetch_file(event.report_chart, target)
    except (LlmopsError, OSError) as error:
        typer.echo(f"error: cannot write the chart {event.report_chart.uri} to {target}: {error}", err=True)
        raise typer.Exit(1) from error
    out.print(f"chart written to {target}", markup=False, highlight=False)


def evaluations(settings: PlatformSettings) -> dict[str, tuple[EvalCompletedV1, datetime]]:
    """Each evaluation run on the topic by id, with its publication time; a republished run's last event wins."""
    runs: dict[str, tuple[EvalCompletedV1, datetime]] = {}
    for entry in run_on_kafka(settings, read_to_end(settings, EVAL_COMPLETED)):
        if isinstance(entry.event, EvalCompletedV1):
            runs[entry.event.eval_id] = (entry.event, entry.envelope.time)
    return runs
