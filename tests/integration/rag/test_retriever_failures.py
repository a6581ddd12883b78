"""The retriever's bad input on the real broker: requests that fail validation get an error reply, and a
document whose embedding keeps failing is retried, then dead-lettered, while later documents flow."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from llmops_common.embedding.sentence_embedder import Embedder, SentenceTransformerEmbedder, Vectors
from llmops_common.events import DocumentIngestedV1, RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.admin import catalog_topics, create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.envelope import new_envelope
from llmops_common.kafka.request_reply import CORRELATION_ID, REPLY_TO, Requester
from llmops_common.settings import PlatformSettings
from llmops_common.topics import RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS, dead_letter_topic
from services.rag_retriever.config import RetrieverConfig
from services.rag_retriever.handlers import GROUP, RetrieverHandlers
from services.rag_retriever.retriever import open_retriever
from tests.support.topic_reader import eventually_async, headers_of, read_matching

POISON = "POISON-PILL"


class PoisonedEmbedder:
    """MiniLM, except that any batch holding a text with `POISON` fails, as a broken device would."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.failures = 0

    @property
    def model_slug(self) -> str:
        return self._inner.model_slug

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    def embed_query(self, text: str) -> Vectors:
        return self._inner.embed_query(text)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if any(POISON in text for text in texts):
            self.failures += 1
            raise RuntimeError("the embedding model failed on this batch")
        return self._inner.embed_documents(texts)


@pytest.fixture
def poisoned(embedder: SentenceTransformerEmbedder) -> PoisonedEmbedder:
    return PoisonedEmbedder(embedder)


@pytest.fixture
def group(unique: str) -> str:
    """A consumer group of the test's own, so that no test waits on another's group to rebalance."""
    return f"{GROUP}-{unique}"


@pytest.fixture
async def service_bus(
    settings: PlatformSettings, tmp_path: Path, poisoned: PoisonedEmbedder, group: str
) -> AsyncIterator[tuple[Bus, Requester[RetrievalAnsweredV1]]]:
    """The retriever's handlers on a bus of their own, and a requester on another."""
    await create_topics(settings, catalog_topics(settings))
    retriever = open_retriever(RetrieverConfig(), settings, tmp_path / "retriever", embedder=poisoned)
    service = Bus.create(settings, source="retriever", state_dir=tmp_path / "service", registry=CollectorRegistry())
    handlers = RetrieverHandlers(retriever, service.publisher)
    handlers.subscribe(service.consumer, group)
    asker = Bus.create(settings, source="tests", state_dir=tmp_path / "asker", registry=CollectorRegistry())
    requester = Requester(asker.broker, asker.publisher, RETRIEVAL_REPLIES.name, RetrievalAnsweredV1)
    await service.start()
    await asker.start()
    await requester.wait_ready()
    yield asker, requester
    await asker.close()
    await service.close()
    handlers.close()
    retriever.close()


def request_without_tenant(request_id: str) -> tuple[bytes, dict[str, str]]:
    """A retrieval request's body with its tenant removed, and headers that ask for a reply."""
    valid = RetrievalRequestedV1(request_id=request_id, tenant="someone", collection="docs", query="keys?")
    body = json.loads(valid.model_dump_json())
    del body["tenant"]
    extensions = {CORRELATION_ID: f"corr-{request_id}", REPLY_TO: RETRIEVAL_REPLIES.name}
    return json.dumps(body).encode(), new_envelope(valid, "/tests", **extensions).headers()


async def test_a_request_without_a_tenant_gets_an_error_reply_and_is_dead_lettered(
    settings: PlatformSettings, service_bus: tuple[Bus, Requester[RetrievalAnsweredV1]], group: str, unique: str
) -> None:
    bus, _ = service_bus
    request_id = f"no-tenant-{unique}"
    body, headers = request_without_tenant(request_id)
    await bus.broker.publish(body, topic=RETRIEVAL_REQUESTS.name, headers=headers)

    def answers_it(record: ConsumerRecord[bytes, bytes]) -> bool:
        return headers_of(record).get(f"ce_{CORRELATION_ID}") == f"corr-{request_id}"

    [reply] = await read_matching(settings.kafka_bootstrap, RETRIEVAL_REPLIES.name, answers_it, 1, timeout=30)
    answer = RetrievalAnsweredV1.model_validate_json(reply.value or b"")
    assert answer.request_id == request_id
    assert answer.chunks == []
    assert answer.error is not None
    assert "tenant" in answer.error

    def is_it(record: ConsumerRecord[bytes, bytes]) -> bool:
        return request_id.encode() in (record.value or b"")

    [dead] = await read_matching(settings.kafka_bootstrap, dead_letter_topic(group), is_it, 1, timeout=30)
    assert headers_of(dead)["dlq_error_class"] == "InvalidEventError"


async def test_each_search_mode_can_be_asked_for_per_request(
    service_bus: tuple[Bus, Requester[RetrievalAnsweredV1]], unique: str
) -> None:
    bus, requester = service_bus
    tenant = f"modes-{unique}"
    text = "Refunds are paid back to the original card within five working days."
    await bus.publisher.publish(DocumentIngestedV1(doc_id="refunds", version=1, tenant=tenant, source="t", text=text))

    async def ask(mode: str) -> RetrievalAnsweredV1:
        request = RetrievalRequestedV1.model_validate(
            {"request_id": f"{mode}-{unique}", "tenant": tenant, "collection": "default", "query": "refunds card"}
            | {"mode": mode}
        )
        return await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=10)

    async def indexed() -> bool:
        return bool((await ask("hybrid")).chunks)

    await eventually_async(indexed, timeout=60)
    for mode in ("dense", "sparse", "hybrid"):
        answer = await ask(mode)
        assert answer.error is None, mode
        assert [chunk.doc_id for chunk in answer.chunks] == ["refunds"], mode


async def test_an_embedding_failure_is_retried_then_dead_lettered_and_the_stream_flows(
    settings: PlatformSettings,
    service_bus: tuple[Bus, Requester[RetrievalAnsweredV1]],
    poisoned: PoisonedEmbedder,
    group: str,
    unique: str,
) -> None:
    bus, requester = service_bus
    tenant = f"poison-{unique}"
    bad = DocumentIngestedV1(doc_id="bad", version=1, tenant=tenant, source="t", text=f"{POISON} never embeds")
    good = DocumentIngestedV1(doc_id="good", version=1, tenant=tenant, source="t", text="Invoices are sent monthly.")
    await bus.publisher.publish(bad)
    await bus.publisher.publish(good)

    def is_bad(record: ConsumerRecord[bytes, bytes]) -> bool:
        return POISON.encode() in (record.value or b"") and tenant.encode() in (record.value or b"")

    [dead] = await read_matching(settings.kafka_bootstrap, dead_letter_topic(group), is_bad, 1, timeout=60)
    reason = headers_of(dead)
    assert reason["dlq_error_class"] == "RuntimeError"
    assert "embedding model failed" in reason["dlq_reason"]
    assert poisoned.failures == settings.handler_max_attempts

    request = RetrievalRequestedV1(request_id=f"after-{unique}", tenant=tenant, collection="default", query="invoices")

    async def good_is_found() -> bool:  # it was published after the bad one
        answer = await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=10)
        return [chunk.doc_id for chunk in answer.chunks] == ["good"]

    await eventually_async(good_is_found, timeout=60)
