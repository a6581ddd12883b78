"""The vector store: a Qdrant server when `LLMOPS_QDRANT_URL` is set, else Qdrant embedded in a folder."""

from __future__ import annotations

from pathlib import Path

from qdrant_client import QdrantClient

from llmops_common.settings import PlatformSettings

from .errors import StoreUnavailableError


def open_vector_store(settings: PlatformSettings, state_dir: Path) -> QdrantClient:
    """A Qdrant client for `settings.qdrant_url`, or embedded Qdrant in `state_dir/qdrant`.

    Embedded Qdrant locks its folder: one client in one process at a time, so give each service its own
    `state_dir` and close the client on shutdown. It also holds every vector in memory and searches by
    brute force, which suits tests and small local corpora; use a server beyond that.
    """
    if settings.qdrant_url:
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return QdrantClient(url=settings.qdrant_url, api_key=api_key)
    path = state_dir / "qdrant"
    path.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(path))
    except RuntimeError as error:  # "already accessed by another instance of Qdrant client"
        raise StoreUnavailableError(f"embedded Qdrant cannot open {path}: {error}") from error


def vector_store_ready(client: QdrantClient) -> bool:
    """Whether Qdrant answers a collection listing now; for `/readyz`."""
    try:
        client.get_collections()
    except Exception:
        return False
    return True
