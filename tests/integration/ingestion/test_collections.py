"""Collections (a tenant's knowledge bases) from ingestion to the index: ingestion and the retriever on the
real broker; documents ingested over HTTP into named collections, searched within one collection of one
tenant, listed with their counts, deleted, and ingested again; and the same from the command line."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner, Result

from llmops_common.cli.main import app as cli
from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.request_reply import Requester
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.topics import RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS
from services.ingestion.app import create_app as create_ingestion
from services.ingestion.settings import Settings as IngestionSettings
from services.rag_retriever.app import create_app as create_retriever
from services.rag_retriever.settings import Settings as RetrieverSettings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.topic_reader import eventually_async
from tests.support.uvicorn_thread import serving

HOLIDAYS = "Holidays are booked in the staff portal at least two weeks ahead, and your manager approves them."
EXPENSES = "Expenses are claimed within thirty days, with a photo of the receipt, in the finance app."
LAUNCH = "The code name of the autumn release is Bluebird, and it must not leave the company before launch."


def document(record_id: str, text: str, collection: str) -> dict[str, object]:
    return {
        "record_id": record_id,
        "source": "handbook",
        "kind": "document",
        "text": text,
        "collection": collection,
        "metadata": {"title": record_id},
    }


@pytest.fixture
async def keys(settings: PlatformSettings, unique: str) -> dict[str, tuple[str, str]]:
    """Two tenants' data keys, and an app's inference key of the first tenant: name -> (tenant, token)."""
    ours, theirs = f"c-{unique}", f"d-{unique}"
    return {
        "ours": (ours, await publish_api_key(settings, ours, "data")),
        "theirs": (theirs, await publish_api_key(settings, theirs, "data")),
        "app": (ours, await publish_api_key(settings, ours)),
    }


@pytest.fixture
def services(settings: PlatformSettings, tmp_path: Path, keys: dict[str, tuple[str, str]]) -> Iterator[TestClient]:
    """Ingestion and the retriever, each with its own state folder, on the test's broker."""
    shared = settings.model_dump()
    with (
        TestClient(create_retriever(RetrieverSettings(**{**shared, "data_dir": tmp_path / "retriever"}))),
        TestClient(create_ingestion(IngestionSettings(**{**shared, "data_dir": tmp_path / "ingestion"}))) as client,
    ):
        yield client


@pytest.fixture
async def requester(settings: PlatformSettings, tmp_path: Path) -> AsyncIterator[Requester[RetrievalAnsweredV1]]:
    bus = Bus.create(settings, source="tests", state_dir=tmp_path / "asker", registry=CollectorRegistry())
    asker = Requester(bus.broker, bus.publisher, RETRIEVAL_REPLIES.name, RetrievalAnsweredV1)
    await bus.start()
    await asker.wait_ready()
    yield asker
    await bus.close()


@pytest.mark.timeout(180)
async def test_collections_are_searched_listed_and_deleted_per_tenant(
    services: TestClient, keys: dict[str, tuple[str, str]], requester: Requester[RetrievalAnsweredV1]
) -> None:
    (ours, our_key), (theirs, their_key), (_, app_key) = keys["ours"], keys["theirs"], keys["app"]
    ingested = [document("holidays", HOLIDAYS, "kb1"), document("expenses", EXPENSES, "kb1")]
    ingested.append(document("launch", LAUNCH, "kb2"))
    assert services.post("/v1/ingest", json={"records": ingested}, headers=bearer(our_key)).status_code == 202
    # The same text in the other tenant's collection of the same name.
    theirs_ingested = [document("holidays", HOLIDAYS, "kb1")]
    assert services.post("/v1/ingest", json={"records": theirs_ingested}, headers=bearer(their_key)).status_code == 202

    def listing(token: str) -> Any:
        response = services.get("/v1/collections", headers=bearer(token))
        assert response.status_code == 200, response.text
        return response.json()

    async def listed(token: str, expected: list[dict[str, object]]) -> bool:
        return bool(listing(token) == expected)

    async def titles(tenant: str, collection: str) -> list[str] | str | None:
        """The titles of the chunks a question finds in the collection, or the error code."""
        question = "How do I book my holidays?"
        request_id = uuid.uuid4().hex
        request = RetrievalRequestedV1(request_id=request_id, tenant=tenant, collection=collection, query=question)
        answer = await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=10)
        return answer.error_code or sorted(str(chunk.metadata["title"]) for chunk in answer.chunks)

    kb1 = {"name": "kb1", "documents": 2, "chunks": 2}
    kb2 = {"name": "kb2", "documents": 1, "chunks": 1}
    await eventually_async(lambda: listed(our_key, [kb1, kb2]), timeout=60)
    await eventually_async(lambda: listed(their_key, [{"name": "kb1", "documents": 1, "chunks": 1}]), timeout=30)
    assert await titles(ours, "kb1") == ["expenses", "holidays"]
    assert await titles(ours, "kb2") == ["launch"]
    assert await titles(theirs, "kb1") == ["holidays"]
    assert await titles(theirs, "kb2") == "collection_not_found"
    assert await titles(ours, "default") == "collection_not_found"

    deleted = services.delete("/v1/collections/kb1", headers=bearer(our_key))

    assert (deleted.status_code, deleted.json()) == (202, {"name": "kb1", "documents": 2})
    await eventually_async(lambda: listed(our_key, [kb2]), timeout=30)
    assert await titles(ours, "kb1") == "collection_not_found"
    assert await titles(theirs, "kb1") == ["holidays"]
    again = services.delete("/v1/collections/kb1", headers=bearer(our_key))
    assert (again.status_code, again.json()["error"]["code"]) == (404, "collection_not_found")
    assert services.delete("/v1/collections/not%20a%20name", headers=bearer(our_key)).status_code == 422
    assert services.get("/v1/collections", headers=bearer(app_key)).status_code == 403

    # The deleted documents left the dedup index and the version store: the same records come back.
    assert services.post("/v1/ingest", json={"records": ingested[:2]}, headers=bearer(our_key)).status_code == 202
    await eventually_async(lambda: listed(our_key, [kb1, kb2]), timeout=60)


@pytest.mark.timeout(180)
async def test_the_command_line_ingests_into_a_collection_lists_and_deletes_it(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    tenant = f"cli-{unique}"
    key = await publish_api_key(settings, tenant, "data")
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "holidays.md").write_text(HOLIDAYS)
    (folder / "expenses.md").write_text(EXPENSES)
    port, shared = free_port(), settings.model_dump()
    ingestion = IngestionSettings(**{**shared, "data_dir": tmp_path / "ingestion", "ingestion_port": port})
    env = {"LLMOPS_API_KEY": key, "LLMOPS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap}

    def llmops(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env)

    def collections(*args: str) -> Result:
        return llmops("collections", *args, "--url", f"http://127.0.0.1:{port}")

    with (
        TestClient(create_retriever(RetrieverSettings(**{**shared, "data_dir": tmp_path / "retriever"}))),
        serving(create_ingestion(ingestion), port),
    ):
        ingested = await asyncio.to_thread(
            llmops, "ingest", str(folder), "--tenant", tenant, "--collection", "handbook"
        )
        assert ingested.exit_code == 0, ingested.output

        async def listed() -> bool:
            result = await asyncio.to_thread(collections, "list")
            return "handbook" in result.stdout and "│ 2 " in result.stdout

        await eventually_async(listed, timeout=60)
        deleted = await asyncio.to_thread(collections, "delete", "handbook")
        again = await asyncio.to_thread(collections, "delete", "handbook")

    assert (deleted.exit_code, deleted.stdout) == (0, "handbook: deleted, 2 documents leave the index\n")
    assert again.exit_code == 1
    assert "no collection 'handbook'" in again.stderr
