"""`llmops status`: each service's URL and health, and the Kafka bootstrap address."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ..settings import PlatformSettings
from .console import console
from .health_probe import ServiceHealth, probe_all

HEALTH_STYLE = {"ready": "green", "not_ready": "yellow", "down": "red"}


def health_table(services: list[ServiceHealth]) -> Table:
    """A table of the services, their URLs and their health."""
    table = Table("service", "url", "health")
    for service in services:
        health = service.health + (f" ({', '.join(service.failing)})" if service.failing else "")
        table.add_row(service.name, service.url, f"[{HEALTH_STYLE[service.health]}]{health}[/]")
    return table


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Shows every service's URL and health; exits 1 unless all are ready."""
    settings = PlatformSettings()
    services = probe_all(settings)
    if as_json:
        document = {
            "kafka_bootstrap": settings.kafka_bootstrap,
            "services": {s.name: {"url": s.url, "health": s.health, "failing": list(s.failing)} for s in services},
        }
        typer.echo(json.dumps(document, indent=2))
    else:
        out = console()
        out.print(f"kafka bootstrap: {settings.kafka_bootstrap}")
        out.print(health_table(services))
    if any(service.health != "ready" for service in services):
        raise typer.Exit(1)
