"""The evaluator's app: for now its frame (bus, health, metrics) and its replica of the prompts."""

from __future__ import annotations

from fastapi import FastAPI

from llmops_common.prompts.replica import open_prompt_replica_deps
from llmops_common.service.app import create_service_app

from .settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """The evaluator's HTTP app; it resolves prompt references from its own replica of the prompts."""
    return create_service_app(settings, open_prompt_replica_deps)
