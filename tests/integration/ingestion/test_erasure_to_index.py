"""Right to erasure reaches the retriever: ingestion and the retriever on the real broker, a data subject's
documents erased over HTTP, and their chunks gone from the index while the others stay."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.request_reply import Requester
from llmops_common.settings import PlatformSettings
from llmops_common.topics import DATA_DOCUMENTS, RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS
from services.ingestion.app import create_app as create_ingestion
from services.ingestion.settings import Settings as IngestionSettings
from services.rag_retriever.app import create_app as create_retriever
from services.rag_retriever.settings import Settings as RetrieverSettings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.topic_reader import eventually_async, read_topic

ROTATE = "To rotate an API key, create a new key, move your apps to it, then revoke the old key at once."
EXPIRE = "An API key expires after ninety days unless an admin extends it from the security settings page."


def document(record_id: str, text: str, user: str) -> dict[str, object]:
    return {"record_id": record_id, "source": "help", "kind": "document", "text": text, "metadata": {"user_id": user}}


@pytest.fixture
async def token(settings: PlatformSettings, unique: str) -> str:
    return await publish_api_key(settings, f"e-{unique}", "data")


@pytest.fixture
def services(settings: PlatformSettings, tmp_path: Path, token: str) -> Iterator[TestClient]:
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


async def test_erasing_a_data_subject_removes_its_chunks_from_the_index(
    services: TestClient, token: str, requester: Requester[RetrievalAnsweredV1], settings: PlatformSettings, unique: str
) -> None:
    tenant = f"e-{unique}"
    records = [document("rotate", ROTATE, "u1"), document("expire", EXPIRE, "u2")]
    assert services.post("/v1/ingest", json={"records": records}, headers=bearer(token)).status_code == 202

    async def found() -> set[str]:
        request = RetrievalRequestedV1(
            request_id=f"q-{unique}", tenant=tenant, collection="default", query="API key", top_k=5
        )
        answer = await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=10)
        return {chunk.doc_id for chunk in answer.chunks}

    await eventually_async(lambda: _has_count(found, 2), timeout=60)
    doc_ids = {
        json.loads(r.value)["metadata"]["user_id"]: json.loads(r.value)["doc_id"]
        for r in await read_topic(settings.kafka_bootstrap, DATA_DOCUMENTS.name, 100_000, 2.0)
        if json.loads(r.value)["tenant"] == tenant
    }

    response = services.post(
        "/v1/erasures", json={"key": "user_id", "value": "u1", "reason": "GDPR request 7"}, headers=bearer(token)
    )

    assert response.status_code == 200, response.text
    audit = response.json()
    assert (audit["documents_erased"], audit["examples_removed"], audit["reason"]) == (1, 0, "GDPR request 7")
    await eventually_async(lambda: _equals(found, {doc_ids["u2"]}), timeout=30)
    erased = [
        json.loads(r.value)
        for r in await read_topic(settings.kafka_bootstrap, DATA_DOCUMENTS.name, 100_000, 2.0)
        if json.loads(r.value).get("erasure_id") == audit["erasure_id"]
    ]
    assert [(e["doc_id"], e["tenant"]) for e in erased] == [(doc_ids["u1"], tenant)]
    again = services.post("/v1/erasures", json={"doc_id": doc_ids["u1"]}, headers=bearer(token))
    assert (again.status_code, again.json()["documents_erased"]) == (200, 0)


async def _has_count(found: Callable[[], Awaitable[set[str]]], count: int) -> bool:
    return len(await found()) == count


async def _equals(found: Callable[[], Awaitable[set[str]]], expected: set[str]) -> bool:
    return await found() == expected
