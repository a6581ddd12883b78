"""The prompt registry's app: for now its frame (bus, health, metrics); its work lands with its issue."""

from __future__ import annotations

from fastapi import FastAPI

from llmops_common.service.app import create_service_app, open_runtime_deps

from .settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """The prompt registry's HTTP app, with a lifespan that connects it to Kafka."""
    return create_service_app(settings, open_runtime_deps)
