"""Extensions through the SDK's `extra_body`: prompt references from the replica of `llmops.prompts`,
and RAG through a retriever that answers on the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from prometheus_client import CollectorRegistry

from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.events.retrieval import COLLECTION_NOT_FOUND, RetrievedChunk
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.kafka.request_reply import send_reply
from llmops_common.settings import PlatformSettings
from llmops_common.topics import RETRIEVAL_REQUESTS
from services.model_server.settings import Settings
from tests.integration.model_server.conftest import ServerFactory, sdk
from tests.support.prompt_registry import bearer, publish_api_key, registry_client
from tests.support.scripted_engine import ScriptedEngine

CHAT_PROMPT = {
    "kind": "chat",
    "messages": [
        {"role": "system", "content": "You answer questions about {{ product }}."},
        {"role": "user", "content": "{{ question }}"},
    ],
    "variables": [{"name": "product", "type": "string"}, {"name": "question", "type": "string"}],
    "commit_message": "first cut",
}


@pytest.fixture
async def tenant_key(settings: PlatformSettings, unique: str) -> tuple[str, str]:
    tenant = f"t-{unique}"
    return tenant, await publish_api_key(settings, tenant, "inference", "prompts")


async def test_prompt_refs_render_from_the_replica(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    tmp_path: Path,
    tenant_key: tuple[str, str],
) -> None:
    _, key = tenant_key
    with registry_client(settings, tmp_path / "registry") as registry:
        for text in ("You answer questions about {{ product }}.", "Be brief about {{ product }}."):
            body = {**CHAT_PROMPT, "messages": [{"role": "system", "content": text}, CHAT_PROMPT["messages"][1]]}
            assert registry.post("/v1/prompts/support/versions", json=body, headers=bearer(key)).status_code == 201
        moved = registry.put("/v1/prompts/support/labels/staging", json={"version": 1}, headers=bearer(key))
        assert moved.status_code == 200, moved.text
    base = str(server_settings.base_model_name)
    variables = {"product": "llmops", "question": "how do keys work?"}
    with start_server(scripted_engine) as url:
        client = sdk(url, key)
        staged = await client.chat.completions.create(
            model=base,
            messages=[],
            max_tokens=1,
            extra_body={"prompt_ref": {"name": "support", "label": "staging", "variables": variables}},
        )
        pinned = await client.chat.completions.create(
            model=base,
            messages=[{"role": "user", "content": "and more?"}],
            max_tokens=1,
            extra_body={"prompt_ref": {"name": "support", "version": 2, "variables": variables}},
        )
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(
                model=base, messages=[], extra_body={"prompt_ref": {"name": "nowhere", "variables": {}}}
            )
        with pytest.raises(openai.UnprocessableEntityError) as missing:
            await client.chat.completions.create(
                model=base, messages=[], extra_body={"prompt_ref": {"name": "support", "variables": {"product": "x"}}}
            )
        with pytest.raises(openai.UnprocessableEntityError):
            await client.chat.completions.create(
                model=base,
                messages=[],
                extra_body={"prompt_ref": {"name": "support", "variables": {**variables, "extra": 1}}},
            )
    assert (
        scripted_engine.prompts[0] == "system: You answer questions about llmops.\nuser: how do keys work?\nassistant:"
    )
    assert scripted_engine.prompts[1] == (
        "system: Be brief about llmops.\nuser: how do keys work?\nuser: and more?\nassistant:"
    )
    assert staged.model_extra is not None
    assert pinned.model_extra is not None
    assert (staged.model_extra["served"]["prompt_name"], staged.model_extra["served"]["prompt_version"]) == (
        "support",
        1,
    )
    assert pinned.model_extra["served"]["prompt_version"] == 2
    assert "question" in str(missing.value.body)


@pytest.fixture
async def retriever_responder(settings: PlatformSettings, tmp_path: Path) -> AsyncIterator[list[RetrievalRequestedV1]]:
    """Answers retrieval requests on the real broker as the retriever does, with two fixed chunks; a
    query containing `slow` gets no answer, and the collection `nowhere` is unknown."""
    seen: list[RetrievalRequestedV1] = []
    bus = Bus.create(settings, source="tests", state_dir=tmp_path / "responder", registry=CollectorRegistry())

    async def answer(request: RetrievalRequestedV1, context: EventContext) -> None:
        seen.append(request)
        if "slow" in request.query:
            return
        if request.collection == "nowhere":
            unknown = RetrievalAnsweredV1(
                request_id=request.request_id, error="no collection 'nowhere'", error_code=COLLECTION_NOT_FOUND
            )
            await send_reply(bus.publisher, context, unknown)
            return
        chunks = [
            RetrievedChunk(
                doc_id="keys", chunk_index=0, text="Rotate keys monthly.", score=0.9, metadata={"src": "kb"}
            ),
            RetrievedChunk(doc_id="limits", chunk_index=3, text="Limits are per key.", score=0.5),
        ]
        await send_reply(bus.publisher, context, RetrievalAnsweredV1(request_id=request.request_id, chunks=chunks))

    bus.consumer.subscribe(
        RETRIEVAL_REQUESTS,
        [RetrievalRequestedV1],
        answer,
        group_id=f"responder-{tmp_path.name}",
        latency_sensitive=True,
    )
    await bus.start()
    yield seen
    await bus.close()


async def test_rag_puts_chunks_into_the_context_and_returns_sources(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    tenant_key: tuple[str, str],
    retriever_responder: list[RetrievalRequestedV1],
) -> None:
    tenant, key = tenant_key
    base = str(server_settings.base_model_name)
    rag: dict[str, Any] = {"collection": "docs", "top_k": 2}
    with start_server(scripted_engine, retriever_timeout_seconds=2.0) as url:
        client = sdk(url, key)
        answered = await client.chat.completions.create(
            model=base,
            messages=[{"role": "user", "content": "how often rotate?"}],
            max_tokens=1,
            extra_body={"rag": rag},
        )
        with pytest.raises(openai.APIStatusError) as late:
            await client.chat.completions.create(
                model=base, messages=[{"role": "user", "content": "slow one"}], max_tokens=1, extra_body={"rag": rag}
            )
        degraded = await client.chat.completions.create(
            model=base,
            messages=[{"role": "user", "content": "slow again"}],
            max_tokens=1,
            extra_body={"rag": {**rag, "on_timeout": "no_context"}},
        )
        with pytest.raises(openai.NotFoundError) as unknown:
            await client.chat.completions.create(
                model=base,
                messages=[{"role": "user", "content": "how often rotate?"}],
                max_tokens=1,
                extra_body={"rag": {"collection": "nowhere"}},
            )
    ours = [r for r in retriever_responder if r.tenant == tenant]
    assert next((r.collection, r.query, r.top_k) for r in ours) == ("docs", "how often rotate?", 2)
    assert scripted_engine.prompts[0].startswith("system: Answer using the following context.")
    assert "[1] Rotate keys monthly.\n[2] Limits are per key." in scripted_engine.prompts[0]
    assert answered.model_extra is not None
    assert answered.model_extra["sources"] == [
        {"doc_id": "keys", "chunk_index": 0, "score": 0.9, "metadata": {"src": "kb"}},
        {"doc_id": "limits", "chunk_index": 3, "score": 0.5, "metadata": {}},
    ]
    assert late.value.status_code == 504
    assert late.value.code == "retriever_timeout"
    assert degraded.model_extra is not None
    assert "sources" not in degraded.model_extra
    assert scripted_engine.prompts[-1] == "user: slow again\nassistant:"
    assert unknown.value.status_code == 404
    assert unknown.value.body == {
        "message": "no collection 'nowhere': ingest documents into it first",
        "type": "not_found_error",
        "param": "rag.collection",
        "code": "collection_not_found",
    }
    assert len(scripted_engine.prompts) == 2  # neither the late request nor the unknown collection generated
