"""Starts the configured engine on the configured base model (or the stored default) for the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from llmops_common.models.default_base import resolve_base_model
from llmops_common.storage.artifacts import open_artifact_store

from .engines.base import InferenceEngine
from .engines.factory import start_engine
from .settings import Settings


@asynccontextmanager
async def open_configured_engine(settings: Settings) -> AsyncIterator[InferenceEngine]:
    """The engine `settings.engine` names over `settings.base_model`; stopped when the block ends."""
    base_model = resolve_base_model(settings.base_model, open_artifact_store(settings), settings.data_dir)
    engine = await start_engine(settings.engine, base_model)
    try:
        yield engine
    finally:
        await engine.close()
