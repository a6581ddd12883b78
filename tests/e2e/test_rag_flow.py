"""RAG through real processes (`llmops up`): a corpus ingested over `POST /v1/ingest` into a named collection
is indexed by the retriever, and a chat completion asked through the openai SDK with `rag` cites exactly
those documents: never another collection's, never another tenant's, even for the same collection name
and a question that quotes the other tenant's text word for word. An unknown collection is a 404."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from llmops_common.auth.api_keys import issue_key
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import SERVICE_NAMES, PlatformSettings
from services.ingestion.pipeline.content import doc_id_of
from tests.support.platform_run import RunningPlatform, platform_env, running_platform

MODEL = "tiny-base"
SOURCE = "staff-handbook"
HANDBOOK = {
    "holidays": "Book holidays in the staff portal two weeks ahead.",
    "expenses": "Claim expenses in the finance app within thirty days.",
    "laptops": "Swap a broken laptop at the IT desk on floor two.",
}
DRAFT = "Draft: holidays may soon be booked by email too."
GLOBEX_MEMO = "Globex only: the Initech merger freezes all holidays."
"""Short texts: the tiny model's context (256 tokens) must hold the question and every chunk."""


@pytest.fixture
def data_dir(tmp_path: Path, onnx_cache: Path) -> Path:
    """The platform's data folder, whose ONNX cache is the shared one: exporting the retriever's embedding
    model takes about 20 s on 2 CPUs, which this test would otherwise spend on every run."""
    data = tmp_path / "data"
    link = PlatformSettings(data_dir=data).embedding_cache_dir
    link.parent.mkdir(parents=True)
    link.symlink_to(onnx_cache, target_is_directory=True)
    return data


@pytest.fixture(scope="session")
def onnx_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest's cache folder, kept across runs, or a temporary one when the cache is off."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("llmops-onnx") if cache else tmp_path_factory.mktemp("onnx")


def records(texts: dict[str, str], collection: str) -> list[dict[str, object]]:
    """Documents for `POST /v1/ingest`, each titled by its record id."""
    return [
        {
            "record_id": record_id,
            "source": SOURCE,
            "kind": "document",
            "text": text,
            "collection": collection,
            "metadata": {"title": record_id},
        }
        for record_id, text in texts.items()
    ]


@pytest.mark.timeout(240)
def test_rag_cites_the_tenants_collection_and_nothing_else(tmp_path: Path, data_dir: Path, tiny_model: Path) -> None:
    env = platform_env(data_dir, tiny_model, base_model_name=MODEL)
    with running_platform(env, tmp_path / "up.log") as platform:
        _wait_ready(platform, timeout=150)
        dev_key, globex_key = platform.dev_token(), _globex_key(platform)
        with httpx.Client(base_url=platform.url("ingestion"), timeout=30) as ingestion:

            def ingest(key: str, documents: list[dict[str, object]]) -> None:
                response = ingestion.post("/v1/ingest", json={"records": documents}, headers=_bearer(key))
                assert response.status_code == 202, response.text

            def collections(key: str) -> Any:
                response = ingestion.get("/v1/collections", headers=_bearer(key))
                assert response.status_code == 200, response.text
                return response.json()

            ingest(dev_key, records(HANDBOOK, "handbook") + records({"draft": DRAFT}, "drafts"))
            # The new key reaches the service's key ring from Kafka within a moment.
            _until(lambda: ingestion.get("/v1/rejects", headers=_bearer(globex_key)).status_code == 200, timeout=10)
            ingest(globex_key, records({"memo": GLOBEX_MEMO}, "handbook"))
            # The dev key is also the admin of its tenant: the listing shows what RAG can find.
            dev_collections = [
                {"name": "drafts", "documents": 1, "chunks": 1},
                {"name": "handbook", "documents": 3, "chunks": 3},
            ]
            _until(lambda: collections(dev_key) == dev_collections, timeout=60)
            _until(lambda: collections(globex_key) == [{"name": "handbook", "documents": 1, "chunks": 1}], timeout=30)

        dev = openai.OpenAI(base_url=f"{platform.url('model_server')}/v1", api_key=dev_key, max_retries=0)
        globex = openai.OpenAI(base_url=f"{platform.url('model_server')}/v1", api_key=globex_key, max_retries=0)
        # A question that quotes the other tenant's document, and top_k above what the collection holds.
        asked = _sources(dev, f"How do I book holidays? {GLOBEX_MEMO}", "handbook")
        theirs = _sources(globex, "How do I book holidays?", "handbook")
        with pytest.raises(openai.NotFoundError) as unknown:
            _sources(dev, "How do I book holidays?", "onboarding")

    assert sorted((s["doc_id"], s["metadata"]["title"], s["chunk_index"]) for s in asked) == sorted(
        (doc_id_of("dev", SOURCE, title), title, 0) for title in HANDBOOK
    )
    assert [(s["doc_id"], s["metadata"]) for s in theirs] == [(doc_id_of("globex", SOURCE, "memo"), {"title": "memo"})]
    assert unknown.value.status_code == 404
    assert unknown.value.code == "collection_not_found"


def _sources(client: openai.OpenAI, question: str, collection: str) -> list[dict[str, Any]]:
    """The sources a chat completion with RAG over `collection` cites."""
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": question}],
        max_tokens=4,
        extra_body={"rag": {"collection": collection, "top_k": 5}},
    )
    assert completion.choices[0].message.content is not None
    assert completion.model_extra is not None
    sources: list[dict[str, Any]] = completion.model_extra["sources"]
    return sources


def _globex_key(platform: RunningPlatform) -> str:
    """A key of a second tenant, `globex`, published on `llmops.auth.keys` as `llmops keys create` does."""
    token, event = issue_key("globex", roles=["data", "inference"], issued_by="tests")
    settings = PlatformSettings(kafka_bootstrap=platform.kafka_bootstrap)
    asyncio.run(publish_once(settings, event, source="tests"))
    return token


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _wait_ready(platform: RunningPlatform, timeout: float) -> None:
    """Polls every service's `/readyz` from this process: cheaper than `llmops status`, a Python process a
    second, which would take CPU from the services while they start."""

    def ready(client: httpx.Client, service: str) -> bool:
        try:
            return client.get(f"{platform.url(service)}/readyz").status_code == 200
        except httpx.TransportError:
            return False

    with httpx.Client(timeout=2) as client:
        _until(lambda: all(ready(client, service) for service in SERVICE_NAMES), timeout)


def _until(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not true within {timeout:g}s"
        time.sleep(0.5)
