"""`llmops topics`: the topic catalog, and whether each topic exists on the broker."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from ..kafka.admin import catalog_topics, create_topics, list_topics
from ..settings import PlatformSettings
from ..topics import CATALOG, DAY_MS
from .console import console


def retention_text(retention_ms: int) -> str:
    """A retention in whole days, or in hours when shorter than a day."""
    hour_ms = DAY_MS // 24
    return f"{retention_ms // DAY_MS}d" if retention_ms >= DAY_MS else f"{max(1, retention_ms // hour_ms)}h"


def topics(
    create: Annotated[bool, typer.Option("--create", help="Create the missing topics on the broker.")] = False,
) -> None:
    """Lists the catalog's topics: key, cleanup policy, event types, and presence on the broker."""
    settings = PlatformSettings()
    if create:
        created = asyncio.run(create_topics(settings, catalog_topics(settings)))
        typer.echo(f"created {len(created)} topics")
    try:
        existing: set[str] | None = set(asyncio.run(list_topics(settings)))
    except Exception as error:
        typer.echo(f"kafka at {settings.kafka_bootstrap} does not answer ({error!r}); showing the catalog only")
        existing = None
    table = Table("topic", "key", "cleanup", "event types", "on broker")
    for spec in CATALOG:
        cleanup = "compact" if spec.cleanup_policy == "compact" else f"delete after {retention_text(spec.retention_ms)}"
        present = "?" if existing is None else ("yes" if spec.name in existing else "[red]no[/]")
        table.add_row(spec.name, spec.key, cleanup, "\n".join(e.event_type for e in spec.events), present)
    console().print(table)
