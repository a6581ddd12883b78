"""`llmops ingest PATH`: records from files onto `llmops.data.raw`, with a progress bar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..events import RecordSubmittedV1
from ..ingest.files import IngestFileError, Kind, read_records
from ..kafka.admin import catalog_topics, create_topics
from ..kafka.broker import build_broker
from ..kafka.publisher import EventPublisher
from ..settings import PlatformSettings
from ..topics import DATA_RAW
from .console import console

BATCH = 500


def ingest(
    path: Annotated[Path, typer.Argument(help="A .jsonl, .csv or .parquet file, or a folder of .txt and .md files.")],
    tenant: Annotated[str, typer.Option(help="The tenant the records belong to.")],
    kind: Annotated[str, typer.Option(help="document (for RAG) or example (for fine-tuning).")] = "document",
    dataset: Annotated[str | None, typer.Option(help="The dataset examples accumulate into.")] = None,
    collection: Annotated[
        str | None, typer.Option(help="The knowledge base documents go into, which RAG requests name (default).")
    ] = None,
) -> None:
    """Publishes the records of PATH to llmops.data.raw, where the ingestion service cleans them."""
    if kind not in ("document", "example"):
        raise typer.BadParameter("--kind must be document or example")
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist")
    record_kind: Kind = "document" if kind == "document" else "example"
    records = read_records(path, tenant=tenant, dataset=dataset, kind=record_kind, collection=collection)
    try:
        sent = asyncio.run(_publish(PlatformSettings(), records))
    except IngestFileError as error:
        console().print(f"[red]error:[/] {error.message}")
        raise typer.Exit(1) from error
    console().print(f"published {sent} records to {DATA_RAW.name}")


async def _publish(settings: PlatformSettings, records: Iterator[RecordSubmittedV1]) -> int:
    if settings.kafka_create_topics:
        await create_topics(settings, [t for t in catalog_topics(settings) if t.name == DATA_RAW.name])
    broker = build_broker(settings, client_id="llmops-ingest")
    await broker.connect()
    sent = 0
    try:
        publisher = EventPublisher(broker, "llmops-ingest")
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console(), transient=False) as progress:
            task = progress.add_task("ingesting", total=None)
            while batch := list(islice(records, BATCH)):
                await publisher.publish_many(batch)
                sent += len(batch)
                progress.update(task, completed=sent)
    finally:
        await broker.stop()
    return sent
