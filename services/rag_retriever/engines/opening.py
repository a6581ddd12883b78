"""Picks the store of the chunk collection: a Qdrant server when one is named, else an embedded engine."""

from __future__ import annotations

from pathlib import Path

from llmops_common.settings import PlatformSettings
from llmops_common.storage.vectors import open_vector_store

from ..config import EmbeddedEngine
from .client import QdrantClientEngine
from .edge import EdgeEngine
from .protocol import CollectionSpec, VectorEngine

EDGE_FOLDER = "qdrant-edge"
"""Edge shards live in `state_dir/qdrant-edge/<collection>`; local mode keeps `state_dir/qdrant`."""


def open_engine(
    settings: PlatformSettings,
    state_dir: Path,
    spec: CollectionSpec,
    embedded: EmbeddedEngine = "edge",
    optimize_after: int = 10_000,
) -> VectorEngine:
    """The collection `spec` on the server at `settings.qdrant_url`, else in `embedded` under `state_dir`."""
    if settings.qdrant_url or embedded == "qdrant-local":
        client = open_vector_store(settings, state_dir)
        try:
            return QdrantClientEngine.open(client, spec)
        except BaseException:
            client.close()
            raise
    return EdgeEngine.open(state_dir / EDGE_FOLDER, spec, optimize_after)
