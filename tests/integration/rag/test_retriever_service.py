"""The retriever service on the real broker: documents indexed from Kafka, answers over request/reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from llmops_common.events import DocumentErasedV1, DocumentIngestedV1, RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.request_reply import Requester
from llmops_common.settings import PlatformSettings
from llmops_common.topics import RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS
from services.rag_retriever.app import create_app
from services.rag_retriever.settings import Settings
from tests.support.topic_reader import eventually_async

TEXT = "To rotate an API key, create a new key, move your apps to it, then revoke the old key."


@pytest.fixture
def retriever(settings: PlatformSettings, tmp_path: Path) -> Iterator[TestClient]:
    service_settings = Settings(**{**settings.model_dump(), "data_dir": tmp_path / "retriever"})
    with TestClient(create_app(service_settings)) as client:
        yield client


@pytest.fixture
async def asker(
    settings: PlatformSettings, tmp_path: Path
) -> AsyncIterator[tuple[Bus, Requester[RetrievalAnsweredV1]]]:
    bus = Bus.create(settings, source="tests", state_dir=tmp_path / "asker", registry=CollectorRegistry())
    requester = Requester(bus.broker, bus.publisher, RETRIEVAL_REPLIES.name, RetrievalAnsweredV1)
    await bus.start()
    await requester.wait_ready()
    yield bus, requester
    await bus.close()


async def test_documents_are_indexed_per_tenant_searched_and_erased(
    retriever: TestClient, asker: tuple[Bus, Requester[RetrievalAnsweredV1]], unique: str
) -> None:
    bus, requester = asker
    ours, theirs = f"a-{unique}", f"b-{unique}"
    for tenant in (ours, theirs):  # the same text in two tenants
        document = DocumentIngestedV1(doc_id=f"keys-{tenant}", version=1, tenant=tenant, source="docs", text=TEXT)
        await bus.publisher.publish(document)

    async def ask(tenant: str) -> RetrievalAnsweredV1:
        request = RetrievalRequestedV1(
            request_id=f"q-{tenant}", tenant=tenant, collection="default", query="how do I rotate a key?", top_k=3
        )
        return await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=10)

    async def found(tenant: str) -> set[str]:
        return {chunk.doc_id for chunk in (await ask(tenant)).chunks}

    async def finds(tenant: str, expected: set[str]) -> bool:
        return await found(tenant) == expected

    await eventually_async(lambda: finds(ours, {f"keys-{ours}"}), timeout=60)
    answer = await ask(ours)
    assert answer.error is None
    assert answer.chunks[0].text == TEXT
    assert await found(f"nobody-{unique}") == set()

    erased = DocumentErasedV1(doc_id=f"keys-{ours}", tenant=ours, reason="erasure request", requested_by="dpo")
    await bus.publisher.publish(erased)

    await eventually_async(lambda: finds(ours, set()), timeout=30)
    assert await found(theirs) == {f"keys-{theirs}"}
