"""Runs a service's app under uvicorn; SIGTERM and SIGINT drain requests and stop consumers cleanly."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from ..settings import ServiceSettings
from .json_logs import configure_json_logging
from .startup_heap import freeze_heap_after_startup

S = TypeVar("S", bound=ServiceSettings)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Blocks serving `app` on the service's port until the process is told to stop."""
    configure_json_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        # uvicorn returns quietly when the lifespan fails (say Kafka is away); the supervisor must see it.
        raise SystemExit(3)


def run_service(settings_class: type[S], create_app: Callable[[S], FastAPI]) -> None:
    """A service's `__main__`: reads its settings from the environment, then serves until told to stop."""
    settings = settings_class()
    app = create_app(settings)
    freeze_heap_after_startup(app)
    serve(app, settings)
