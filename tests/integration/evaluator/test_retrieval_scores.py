"""hit@k and MRR of a RAG model, on the real broker with the real retriever (MiniLM) and the tiny model.

A tenant has two documents indexed, another tenant a third. The model's retrieval set has three labelled
queries: one whose relevant document the retriever ranks first, one whose relevant document it ranks
second, and one whose relevant document only the other tenant has, so it is never found. The evaluation
reports hit@k = 2/3 and MRR = (1 + 1/2 + 0)/3 on both arms; with the retriever stopped, the next one
leaves them out and says why, and is still published.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from llmops_common.events import (
    DocumentIngestedV1,
    EvalCompletedV1,
    RetrievalAnsweredV1,
    RetrievalRequestedV1,
    TrainingCompletedV1,
)
from llmops_common.events.training import MetricDelta
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.one_shot import publish_once
from llmops_common.kafka.request_reply import Requester
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import EVAL_COMPLETED, RETRIEVAL_REPLIES, RETRIEVAL_REQUESTS
from services.evaluator.app import Deps
from services.evaluator.app import create_app as create_evaluator
from services.evaluator.gate import GatePolicy
from services.evaluator.settings import ModelEvalPolicy
from services.evaluator.settings import Settings as EvaluatorSettings
from services.ingestion.datasets import Example
from services.rag_retriever.app import create_app as create_retriever
from services.rag_retriever.settings import Settings as RetrieverSettings
from tests.support.tiny_models import make_lora_adapter
from tests.support.topic_reader import eventually, eventually_async, read_keyed
from tests.support.training_data import seal_examples, succeeded_training, ticket_examples

KEYS = "To rotate an API key, create a new key, move your apps to it, then revoke the old key."
INVOICES = "Invoices are emailed to the billing contact on the first day of each month."
PASSWORDS = "To reset your password, click Forgot password on the sign-in page and follow the emailed link."
ROTATE, INVOICED, RESET = "How do I rotate an API key?", "When are invoices emailed?", "How do I reset my password?"
RETRIEVAL_TIMEOUT = 5.0
UNMEASURED = re.compile(
    r"hit_at_k and mrr not measured on retrieval set labelled-queries@latest: query '(rotate|invoiced|reset)' "
    r"got no answer from the retriever: no reply to llmops\.retrieval\.requested\.v1 on "
    rf"{re.escape(RETRIEVAL_REPLIES.name)} within {RETRIEVAL_TIMEOUT:g}s"
)
"""Every query is in flight when the first one times out: any of them may be the one the note names."""


def labelled_queries() -> list[Example]:
    """The three queries, labelled as ingestion keeps record metadata (scalars: a JSON list as text, or
    comma-separated text)."""

    def query(record_id: str, text: str, relevant: str) -> Example:
        return Example(record_id, "tests", text, None, None, metadata=(("relevant_doc_ids", relevant),))

    return [
        query("rotate", ROTATE, '["keys"]'),  # ranked first
        query("invoiced", INVOICED, "keys,rotation-faq"),  # "keys" ranked second, after "invoices"
        query("reset", RESET, "passwords"),  # the other tenant's document: never found
    ]


@contextmanager
def running_retriever(settings: PlatformSettings, state: Path) -> Iterator[TestClient]:
    """The real retriever service."""
    with TestClient(create_retriever(RetrieverSettings(**{**settings.model_dump(), "data_dir": state}))) as client:
        yield client


@contextmanager
def running_evaluator(settings: PlatformSettings, tiny_model: Path, model_name: str) -> Iterator[Deps]:
    """The evaluator, with a policy naming the retrieval set; its deps, to see its dataset index."""
    policy = ModelEvalPolicy(gate=GatePolicy(min_examples=1), retrieval_set="labelled-queries@latest")
    app_settings = EvaluatorSettings(
        **{**settings.model_dump(), "base_model": str(tiny_model)},
        eval_policies={model_name: policy},
        eval_max_new_tokens=8,
        eval_retrieval_timeout_seconds=RETRIEVAL_TIMEOUT,
    )
    with TestClient(create_evaluator(app_settings)) as client:
        yield client.app_state["deps"]


@pytest.fixture
async def requester(settings: PlatformSettings, tmp_path: Path) -> AsyncIterator[Requester[RetrievalAnsweredV1]]:
    """The test's own asker, to see the retriever's rankings and to know when it has indexed."""
    bus = Bus.create(settings, source="tests", state_dir=tmp_path / "asker", registry=CollectorRegistry())
    asker = Requester(bus.broker, bus.publisher, RETRIEVAL_REPLIES.name, RetrievalAnsweredV1)
    await bus.start()
    await asker.wait_ready()
    yield asker
    await bus.close()


async def ranking(requester: Requester[RetrievalAnsweredV1], tenant: str, query: str) -> list[str]:
    """The documents the retriever gives `tenant` for `query`, best first."""
    request = RetrievalRequestedV1(request_id="test", tenant=tenant, collection="default", query=query, top_k=5)
    answer = await requester.request(request, topic=RETRIEVAL_REQUESTS.name, timeout=10)
    return [chunk.doc_id for chunk in answer.chunks]


async def evaluation(settings: PlatformSettings, completed: TrainingCompletedV1) -> EvalCompletedV1:
    """Publishes the finished fine-tune and returns its evaluation."""
    await publish_once(settings, completed, source="trainer")
    [record] = await read_keyed(settings.kafka_bootstrap, EVAL_COMPLETED.name, f"eval-{completed.job_id}", 1, 240)
    return EvalCompletedV1.model_validate_json(record.value)


@pytest.mark.timeout(300)
async def test_hit_at_k_and_mrr_from_the_real_retriever_and_left_out_when_it_is_down(
    settings: PlatformSettings,
    requester: Requester[RetrievalAnsweredV1],
    tiny_model: Path,
    unique: str,
    tmp_path: Path,
) -> None:
    tenant, other, model_name = f"t-{unique}", f"o-{unique}", f"rag-{unique}"
    artifacts = open_artifact_store(settings)
    training = seal_examples(artifacts, ticket_examples(20), tenant=tenant, name=f"feedback-{model_name}")
    adapter = artifacts.put_folder(make_lora_adapter(tiny_model, tmp_path / "adapter", seed=3))

    with running_evaluator(settings, tiny_model, model_name) as deps:
        with running_retriever(settings, tmp_path / "retriever"):
            documents = [(tenant, "keys", KEYS), (tenant, "invoices", INVOICES), (other, "passwords", PASSWORDS)]
            for tenant_id, doc_id, text in documents:
                document = DocumentIngestedV1(doc_id=doc_id, version=1, tenant=tenant_id, source="docs", text=text)
                await publish_once(settings, document, source="ingestion")

            async def indexed() -> bool:
                return len(await ranking(requester, tenant, ROTATE)) == 2

            await eventually_async(indexed, timeout=120)
            # The rankings the labels were written for.
            assert await ranking(requester, tenant, ROTATE) == ["keys", "invoices"]
            assert await ranking(requester, tenant, INVOICED) == ["invoices", "keys"]
            assert "passwords" not in await ranking(requester, tenant, RESET)

            sealed = seal_examples(artifacts, labelled_queries(), tenant=tenant, name="labelled-queries")
            await publish_once(settings, sealed, source="ingestion")
            await eventually(lambda: deps.datasets.find(tenant, "labelled-queries", "latest") is not None, timeout=60)

            measured = await evaluation(settings, succeeded_training(f"rag-{unique}", model_name, training, adapter))

        unmeasured = await evaluation(settings, succeeded_training(f"down-{unique}", model_name, training, adapter))

    assert measured.metrics["hit_at_k"] == 2 / 3
    assert measured.metrics["mrr"] == (1 + 1 / 2 + 0) / 3
    # Retrieval does not depend on the adapter: both arms get the same values, and a zero delta.
    assert measured.baseline_metrics["hit_at_k"] == measured.metrics["hit_at_k"]
    assert measured.baseline_metrics["mrr"] == measured.metrics["mrr"]
    zero = MetricDelta(mean=0.0, low=0.0, high=0.0)
    assert (measured.deltas["hit_at_k"], measured.deltas["mrr"]) == (zero, zero)
    assert not any("hit_at_k" in reason or "retrieval" in reason for reason in measured.gate_reasons)

    assert "hit_at_k" not in unmeasured.metrics
    assert "mrr" not in unmeasured.baseline_metrics
    assert "hit_at_k" not in unmeasured.deltas
    assert unmeasured.examples == measured.examples
    assert unmeasured.gate_reasons[:-1] == measured.gate_reasons
    assert UNMEASURED.fullmatch(unmeasured.gate_reasons[-1]), unmeasured.gate_reasons[-1]
