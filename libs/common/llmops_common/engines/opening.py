"""Starts an engine on the configured base model (or the stored default): the model server's and the
evaluator's way in, so both generate with the same code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..models.default_base import resolve_base_model
from ..settings import PlatformSettings
from ..storage.artifacts import open_artifact_store
from .base import InferenceEngine
from .factory import EngineKind, start_engine


@asynccontextmanager
async def open_configured_engine(settings: PlatformSettings, kind: EngineKind) -> AsyncIterator[InferenceEngine]:
    """The engine `kind` names over `settings.base_model`; stopped when the block ends."""
    base_model = resolve_base_model(settings.base_model, open_artifact_store(settings), settings.data_dir)
    engine = await start_engine(kind, base_model)
    try:
        yield engine
    finally:
        await engine.close()
