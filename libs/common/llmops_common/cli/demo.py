"""`llmops demo`: the whole life cycle on a fresh platform, told chapter by chapter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer

from ..settings import PlatformSettings
from .console import console


def demo(
    base_model: Annotated[
        str | None,
        typer.Option(
            help="A model folder or hub id; by default what `llmops up` serves (LLMOPS_BASE_MODEL, else the "
            "default tiny model, built once if the data folder has none)."
        ),
    ] = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where the run's platform data, logs and report go; a new <data dir>/demo/<time> by default."
        ),
    ] = None,
) -> None:
    """Starts a platform of its own and runs the life cycle: ingest, a RAG answer with citations, feedback,
    a dataset, a fine-tune, its evaluation, a canary, the promotion, a drift alert and a cost alert. Ends
    with the evaluation report's PNG."""
    from ..demo.run import default_work_dir, run_demo

    out = console()
    folder = work_dir or default_work_dir(PlatformSettings())
    try:
        png = run_demo(out, folder, base_model)
    except (RuntimeError, TimeoutError, OSError, httpx.HTTPError) as error:
        out.print(f"[red]the demo stopped: {error or type(error).__name__}[/]; logs in {folder}")
        raise typer.Exit(1) from error
    out.print(f"[bold green]evaluation report:[/] {png.resolve()}", highlight=False)
