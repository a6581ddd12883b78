"""The vector store: embedded Qdrant in a folder, and a Qdrant server when one is named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from qdrant_client import QdrantClient, models

from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.storage.errors import StoreUnavailableError
from llmops_common.storage.vectors import open_vector_store, vector_store_ready

QDRANT_URL_VARIABLE = "LLMOPS_TEST_QDRANT_URL"
DOCUMENTS = {1: [1.0, 0.0, 0.0], 2: [0.9, 0.1, 0.0], 3: [0.0, 1.0, 0.0], 4: [0.0, 0.0, 1.0]}


def fill(client: QdrantClient, collection: str) -> None:
    client.create_collection(collection, vectors_config=models.VectorParams(size=3, distance=models.Distance.COSINE))
    client.upsert(
        collection,
        points=[
            models.PointStruct(id=point, vector=vector, payload={"tenant": "acme" if point % 2 else "globex"})
            for point, vector in DOCUMENTS.items()
        ],
    )


def nearest(client: QdrantClient, collection: str, tenant: str | None = None) -> list[models.ExtendedPointId]:
    only = None
    if tenant:
        only = models.Filter(must=[models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant))])
    hits = client.query_points(collection, query=[1.0, 0.05, 0.0], limit=3, query_filter=only)
    return [hit.id for hit in hits.points]


def test_embedded_qdrant_searches_and_keeps_its_collections(
    store_settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    collection = f"docs-{unique}"
    client = open_vector_store(store_settings, tmp_path / "state")
    try:
        assert vector_store_ready(client)
        fill(client, collection)
        assert nearest(client, collection) == [1, 2, 3]
        assert nearest(client, collection, tenant="globex") == [2, 4]
    finally:
        client.close()
    assert (tmp_path / "state" / "qdrant").is_dir()

    reopened = open_vector_store(store_settings, tmp_path / "state")
    try:
        assert reopened.count(collection).count == len(DOCUMENTS)
    finally:
        reopened.close()


def test_embedded_qdrant_refuses_a_second_client_on_its_folder(
    store_settings: PlatformSettings, tmp_path: Path
) -> None:
    client = open_vector_store(store_settings, tmp_path / "state")
    try:
        with pytest.raises(StoreUnavailableError, match="already accessed by another instance"):
            open_vector_store(store_settings, tmp_path / "state")
    finally:
        client.close()


def test_a_qdrant_server_searches_alike(store_settings: PlatformSettings, tmp_path: Path, unique: str) -> None:
    url = os.environ.get(QDRANT_URL_VARIABLE)
    if not url:
        pytest.skip(f"no Qdrant server: set {QDRANT_URL_VARIABLE}=http://host:6333")
    collection = f"docs-{unique}"
    client = open_vector_store(store_settings.model_copy(update={"qdrant_url": url}), tmp_path / "state")
    try:
        assert vector_store_ready(client)
        fill(client, collection)
        assert nearest(client, collection) == [1, 2, 3]
    finally:
        client.delete_collection(collection)
        client.close()
    assert not (tmp_path / "state" / "qdrant").exists()


@pytest.mark.filterwarnings("ignore:Failed to obtain server version:UserWarning")
def test_an_unreachable_qdrant_server_is_not_ready(store_settings: PlatformSettings, tmp_path: Path) -> None:
    settings = store_settings.model_copy(update={"qdrant_url": f"http://127.0.0.1:{free_port()}"})
    client = open_vector_store(settings, tmp_path / "state")
    try:
        assert vector_store_ready(client) is False
    finally:
        client.close()
