"""Runs the CLI's Kafka work, turning a broker that does not answer into one line and exit status 1."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from aiokafka.errors import KafkaError

from ..kafka.topic_scan import MissingTopicError
from ..settings import PlatformSettings

T = TypeVar("T")


def run_on_kafka(settings: PlatformSettings, call: Coroutine[Any, Any, T]) -> T:
    """Runs `call` to its end in a fresh event loop; a Kafka failure exits 1 with the reason."""
    try:
        return asyncio.run(call)
    except MissingTopicError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    except (KafkaError, OSError) as error:
        reason = str(error) or type(error).__name__
        typer.echo(f"error: kafka at {settings.kafka_bootstrap} does not answer: {reason}", err=True)
        raise typer.Exit(1) from error
