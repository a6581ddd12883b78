"""What a key may reach, through each service's HTTP API on the real broker.

Each hole was open before the fix: a key with no role (an app's inference key) could ingest, seal, erase
and write prompts; a data key could call models; a key limited to one model could send feedback that
trains another; and a model whose adapter was trained on tenant A's data served tenant B.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from llmops_common.events import ArtifactRef, ModelPromotedV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from services.feedback_collector.app import create_app as create_collector
from services.feedback_collector.settings import Settings as CollectorSettings
from services.ingestion.app import create_app as create_ingestion
from services.ingestion.settings import Settings as IngestionSettings
from services.model_server.app import create_app as create_model_server
from services.model_server.settings import Settings as ServerSettings
from tests.support.prompt_registry import bearer, publish_api_key, registry_client
from tests.support.scripted_engine import ScriptedEngine
from tests.support.uvicorn_thread import serving

PROMPT = {"kind": "text", "template": "Hello", "variables": [], "commit_message": "first"}
HI = [{"role": "user", "content": "hi"}]
DOCUMENT = {"record_id": "d1", "source": "helpdesk", "kind": "document", "text": "Support answers within a day."}


def lacks(scope: str, key_scopes: list[str]) -> dict[str, Any]:
    """The platform's 403 body for a key without `scope`."""
    message = f"this API key lacks the '{scope}' scope"
    return {
        "error": {
            "code": "forbidden",
            "message": message,
            "detail": {"required_scope": scope, "key_scopes": key_scopes},
        }
    }


def model_not_found(model: str) -> dict[str, Any]:
    """The model server's 404 for a model that does not exist for the key: OpenAI's shape."""
    message = f"the model {model!r} does not exist or this key may not call it"
    return {"error": {"message": message, "type": "not_found_error", "param": None, "code": "model_not_found"}}


@contextmanager
def model_server(settings: PlatformSettings, data_dir: Path, base: str) -> Iterator[str]:
    """A model server over real HTTP on the test's broker, serving a scripted engine as `base`."""
    port = free_port()
    server_settings = ServerSettings(
        **{**settings.model_dump(), "data_dir": data_dir, "base_model_name": base, "model_server_port": port},
        telemetry_flush_seconds=0.05,
    )
    engine = ScriptedEngine()

    @asynccontextmanager
    async def given_engine(_: ServerSettings) -> AsyncIterator[ScriptedEngine]:
        yield engine

    with serving(create_model_server(server_settings, open_engine=given_engine), port, "model server") as url:
        yield url


def stored_adapter(settings: PlatformSettings, data_dir: Path, version: str) -> ArtifactRef:
    """A PEFT-shaped folder in the model server's artifact store."""
    folder = data_dir.parent / "adapters" / version
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "version": version}))
    return open_artifact_store(settings.model_copy(update={"data_dir": data_dir})).put_folder(folder)


async def promote(
    settings: PlatformSettings,
    model: str,
    base: str,
    adapter: ArtifactRef,
    owner_tenant: str | None = None,
    shared: bool = False,
) -> None:
    """Deploys `adapter` as `model` for `owner_tenant` (None: every tenant), as the monitor's promotion does."""
    event = ModelPromotedV1(
        model_name=model,
        base_model=base,
        adapter_version=model,
        adapter=adapter,
        changed_by="tests",
        changed_at=datetime.now(UTC),
        owner_tenant=owner_tenant,
        shared=shared,
    )
    await publish_once(settings, event, source="tests")


async def chat(url: str, key: str, model: str) -> httpx.Response:
    """A chat completion of `model` with `key`."""
    async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=30) as http:
        return await http.post("/v1/chat/completions", json={"model": model, "messages": HI, "max_tokens": 2})


async def models_response(url: str, key: str) -> httpx.Response:
    """`GET /v1/models` with `key`."""
    async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=30) as http:
        return await http.get("/v1/models")


async def listed(url: str, key: str) -> list[str]:
    """The models `GET /v1/models` lists for `key`."""
    response = await models_response(url, key)
    assert response.status_code == 200, response.text
    return [model["id"] for model in response.json()["data"]]


async def test_an_inference_key_cannot_ingest_seal_erase_or_write_prompts(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    app_key = bearer(await publish_api_key(settings, f"t-{unique}"))
    data_key = bearer(await publish_api_key(settings, f"t-{unique}", "data"))
    refused = lacks("data", ["inference"])
    ingestion_settings = IngestionSettings(**{**settings.model_dump(), "data_dir": tmp_path / "ingestion"})
    with TestClient(create_ingestion(ingestion_settings)) as ingestion:
        calls = {
            "ingest": ingestion.post("/v1/ingest", json={"records": [DOCUMENT]}, headers=app_key),
            "rejects": ingestion.get("/v1/rejects", headers=app_key),
            "dataset": ingestion.get("/v1/datasets/support", headers=app_key),
            "seal": ingestion.post("/v1/datasets/support/seal", headers=app_key),
            "versions": ingestion.get("/v1/datasets/support/versions", headers=app_key),
            "erase": ingestion.post("/v1/erasures", json={"key": "user_id", "value": "u1"}, headers=app_key),
        }
        for name, response in calls.items():
            assert (response.status_code, response.json()) == (403, refused), name
        assert ingestion.get("/v1/rejects", headers=data_key).status_code == 200

    with registry_client(settings, tmp_path / "registry") as registry:
        calls = {
            "create": registry.post("/v1/prompts/greeting/versions", json=PROMPT, headers=app_key),
            "label": registry.put("/v1/prompts/greeting/labels/staging", json={"version": 1}, headers=app_key),
            "read": registry.get("/v1/prompts/greeting", headers=app_key),
            "list": registry.get("/v1/prompts", headers=app_key),
            "render": registry.post("/v1/prompts/greeting/render", json={"variables": {}}, headers=app_key),
        }
        for name, response in calls.items():
            assert (response.status_code, response.json()) == (403, lacks("prompts", ["inference"])), name
        # A data key is no prompt writer either.
        written = registry.post("/v1/prompts/greeting/versions", json=PROMPT, headers=data_key)
        assert (written.status_code, written.json()) == (403, lacks("prompts", ["data"]))


async def test_a_data_key_cannot_call_models_or_send_feedback(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    base = f"base-{unique}"
    data_key = await publish_api_key(settings, f"t-{unique}", "data")
    app_key = await publish_api_key(settings, f"t-{unique}")
    with model_server(settings, tmp_path / "server", base) as url:
        for response in (await chat(url, data_key, base), await models_response(url, data_key)):
            assert response.status_code == 403
            assert response.json() == {
                "error": {
                    "message": "this API key lacks the 'inference' scope",
                    "type": "permission_error",
                    "param": None,
                    "code": "forbidden",
                }
            }
        assert (await chat(url, app_key, base)).status_code == 200

    collector_settings = CollectorSettings(**{**settings.model_dump(), "data_dir": tmp_path / "collector"})
    with TestClient(create_collector(collector_settings)) as collector:
        body = {"request_id": "r1", "score_kind": "thumbs", "score": 1}
        refused = collector.post("/v1/feedback", json=body, headers=bearer(data_key))
        assert (refused.status_code, refused.json()) == (403, lacks("inference", ["data"]))


async def test_a_key_limited_to_one_model_reaches_no_other(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    tenant, base = f"t-{unique}", f"base-{unique}"
    allowed, other = f"allowed-{unique}", f"other-{unique}"
    data_dir = tmp_path / "server"
    for model in (allowed, other):
        await promote(settings, model, base, stored_adapter(settings, data_dir, model))
    limited = await publish_api_key(settings, tenant, models=[allowed])
    unlimited = await publish_api_key(settings, tenant)
    with model_server(settings, data_dir, base) as url:
        assert await listed(url, limited) == [allowed]
        assert (await chat(url, limited, allowed)).status_code == 200
        for model in (other, base):
            response = await chat(url, limited, model)
            assert (response.status_code, response.json()) == (404, model_not_found(model))
        served_other = await chat(url, unlimited, other)
        assert served_other.status_code == 200
        request_id = served_other.headers["x-request-id"]

        collector_settings = CollectorSettings(
            **{**settings.model_dump(), "data_dir": tmp_path / "collector", "feedback_unknown_request_wait_seconds": 5}
        )
        with TestClient(create_collector(collector_settings)) as collector:
            body = {"request_id": request_id, "score_kind": "thumbs", "score": -1, "correction": "teach it"}
            # The unlimited key's feedback proves the collector knows the request; the limited key's is
            # refused as if it did not exist: it would train a model the key may not call.
            assert collector.post("/v1/feedback", json=body, headers=bearer(unlimited)).status_code == 202
            refused = collector.post("/v1/feedback", json={**body, "feedback_id": "f2"}, headers=bearer(limited))
            assert refused.status_code == 404
            assert refused.json()["error"]["message"] == "no such request"


async def test_a_tenants_adapter_is_invisible_to_other_tenants_unless_shared(
    settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    owner, other, base = f"a-{unique}", f"b-{unique}", f"base-{unique}"
    private, shared = f"private-{unique}", f"shared-{unique}"
    data_dir = tmp_path / "server"
    await promote(settings, private, base, stored_adapter(settings, data_dir, private), owner_tenant=owner)
    await promote(settings, shared, base, stored_adapter(settings, data_dir, shared), owner_tenant=owner, shared=True)
    owner_key = await publish_api_key(settings, owner)
    other_key = await publish_api_key(settings, other)
    operator_key = await publish_api_key(settings, f"ops-{unique}", "operator")
    with model_server(settings, data_dir, base) as url:
        assert await listed(url, owner_key) == [base, private, shared]
        assert await listed(url, other_key) == [base, shared]
        assert await listed(url, operator_key) == [base, private, shared]
        assert (await chat(url, owner_key, private)).status_code == 200
        assert (await chat(url, other_key, shared)).status_code == 200
        # Exactly what an unknown model answers: nothing tells tenant B that the model exists.
        for model in (private, f"unknown-{unique}"):
            response = await chat(url, other_key, model)
            assert (response.status_code, response.json()) == (404, model_not_found(model))
