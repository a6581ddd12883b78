"""Deployments from `llmops.models.lifecycle`: replay at start, hot promotion and rollback under load with
no failed request, a failed load that keeps the old version, canary stickiness and split, retirement."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx

from llmops_common.events import (
    ArtifactRef,
    Event,
    ModelAdapterLoadFailedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRetiredV1,
    ModelRolledBackV1,
)
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import MODELS_SERVING
from services.model_server.settings import Settings
from tests.integration.model_server.conftest import ServerFactory
from tests.support.prompt_registry import bearer
from tests.support.scripted_engine import ScriptedEngine
from tests.support.topic_reader import read_matching


def stored_adapter(settings: Settings, tmp_path: Path, version: str) -> ArtifactRef:
    """A PEFT-shaped folder put into the server's artifact store."""
    folder = tmp_path / "adapters" / version
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "version": version}))
    return open_artifact_store(settings).put_folder(folder)


def promoted(model: str, base: str, version: str | None, ref: ArtifactRef | None) -> ModelPromotedV1:
    return ModelPromotedV1(
        model_name=model,
        base_model=base,
        adapter_version=version,
        adapter=ref,
        changed_by="tests",
        changed_at=datetime.now(UTC),
    )


async def publish(settings: PlatformSettings, event: Event) -> None:
    await publish_once(settings, event, source="tests")


async def served_version(http: httpx.AsyncClient, model: str, user: str = "u") -> str | None:
    response = await http.post("/v1/completions", json={"model": model, "prompt": "x", "max_tokens": 1, "user": user})
    assert response.status_code == 200, response.text
    version: str | None = response.json()["served"]["adapter_version"]
    return version


async def until_served(http: httpx.AsyncClient, model: str, version: str | None, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            response = await http.post("/v1/completions", json={"model": model, "prompt": "x", "max_tokens": 1})
            if response.status_code == 200 and response.json()["served"]["adapter_version"] == version:
                return
            await asyncio.sleep(0.05)


async def test_replayed_at_start_and_promoted_under_load_without_failures(
    start_server: ServerFactory,
    server_settings: Settings,
    settings: PlatformSettings,
    tmp_path: Path,
    unique: str,
    key: str,
) -> None:
    engine = ScriptedEngine(token_seconds=0.002)
    base, model = str(server_settings.base_model_name), f"support-{unique}"
    v1, v2 = stored_adapter(server_settings, tmp_path, "v1"), stored_adapter(server_settings, tmp_path, "v2")
    await publish(settings, promoted(model, base, "v1", v1))  # before the server starts: replayed
    with start_server(engine) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=30) as http:
            assert await served_version(http, model) == "v1"
            models = (await http.get("/v1/models")).json()["data"]
            assert [m["id"] for m in models] == [base, model]
            outcomes: list[tuple[int, str | None]] = []
            stop = asyncio.Event()

            async def load() -> None:
                body = {"model": model, "prompt": "x", "max_tokens": 8}
                while not stop.is_set():
                    response = await http.post("/v1/completions", json=body)
                    served = response.json().get("served", {}) if response.status_code == 200 else {}
                    outcomes.append((response.status_code, served.get("adapter_version")))

            clients = [asyncio.create_task(load()) for _ in range(8)]
            await asyncio.sleep(0.3)
            await publish(settings, promoted(model, base, "v2", v2))
            await until_served(http, model, "v2")
            await asyncio.sleep(0.3)
            await publish(
                settings,
                ModelRolledBackV1(
                    model_name=model,
                    base_model=base,
                    adapter_version="v1",
                    adapter=v1,
                    reason="regression",
                    changed_by="tests",
                    changed_at=datetime.now(UTC),
                ),
            )
            await until_served(http, model, "v1")
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.gather(*clients)
    assert {status for status, _ in outcomes} == {200}
    versions = [version for _, version in outcomes]
    assert {"v1", "v2"} <= set(versions)
    assert engine.load_log == [f"v1@{v1.sha256[:12]}", f"v2@{v2.sha256[:12]}", f"v1@{v1.sha256[:12]}"]
    assert engine.unload_log[:2] == [f"v1@{v1.sha256[:12]}", f"v2@{v2.sha256[:12]}"]
    assert engine.aborted == []


async def test_a_failed_load_keeps_the_old_version_and_is_reported(
    start_server: ServerFactory,
    server_settings: Settings,
    settings: PlatformSettings,
    tmp_path: Path,
    unique: str,
    key: str,
) -> None:
    engine = ScriptedEngine(failing_adapters={"bad"})
    base, model = str(server_settings.base_model_name), f"support-{unique}"
    good, bad = stored_adapter(server_settings, tmp_path, "good"), stored_adapter(server_settings, tmp_path, "bad")
    with start_server(engine) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            await publish(settings, promoted(model, base, "good", good))
            await until_served(http, model, "good")
            await publish(settings, promoted(model, base, "bad", bad))
            [record] = await read_matching(
                settings.kafka_bootstrap, MODELS_SERVING.name, lambda r: json.loads(r.value)["model_name"] == model, 1
            )
            assert await served_version(http, model) == "good"
    failure = ModelAdapterLoadFailedV1.model_validate_json(record.value)
    assert (failure.adapter_version, failure.adapter, failure.lifecycle_event_type) == (
        "bad",
        bad,
        ModelPromotedV1.event_type,
    )
    assert "scripted failure" in failure.error


async def test_canary_is_sticky_per_user_and_splits_by_percent(
    start_server: ServerFactory,
    server_settings: Settings,
    settings: PlatformSettings,
    tmp_path: Path,
    unique: str,
    key: str,
) -> None:
    engine = ScriptedEngine()
    base, model = str(server_settings.base_model_name), f"support-{unique}"
    stable, candidate = stored_adapter(server_settings, tmp_path, "s1"), stored_adapter(server_settings, tmp_path, "c2")
    canary = ModelCanaryStartedV1(
        model_name=model,
        base_model=base,
        stable_adapter_version="s1",
        stable_adapter=stable,
        candidate_adapter_version="c2",
        candidate_adapter=candidate,
        candidate_percent=25,
        changed_by="tests",
        changed_at=datetime.now(UTC),
    )
    with start_server(engine) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            await publish(settings, canary)
            await until_served(http, model, "c2")
            arms = {}
            for user in range(200):
                response = await http.post(
                    "/v1/completions", json={"model": model, "prompt": "x", "max_tokens": 1, "user": f"user-{user}"}
                )
                arms[user] = response.json()["served"]
            again = [
                (
                    await http.post(
                        "/v1/completions", json={"model": model, "prompt": "x", "max_tokens": 1, "user": f"user-{user}"}
                    )
                ).json()["served"]
                for user in range(20)
            ]
            by_session = {
                (
                    await http.post(
                        "/v1/completions",
                        json={"model": model, "prompt": "x", "max_tokens": 1},
                        headers={"x-session-id": "s-7"},
                    )
                ).json()["served"]["canary_arm"]
                for _ in range(5)
            }
            await publish(
                settings,
                ModelRetiredV1(model_name=model, reason="done", changed_by="tests", changed_at=datetime.now(UTC)),
            )
            async with asyncio.timeout(20):
                while (await http.post("/v1/completions", json={"model": model, "prompt": "x"})).status_code != 404:  # noqa: ASYNC110 - polls the HTTP API
                    await asyncio.sleep(0.05)
    candidates = [user for user, served in arms.items() if served["canary_arm"] == "candidate"]
    assert all(arms[u]["adapter_version"] == ("c2" if u in candidates else "s1") for u in arms)
    assert 0.15 <= len(candidates) / len(arms) <= 0.35
    assert again == [arms[user] for user in range(20)]
    assert len(by_session) == 1


async def test_a_replayed_promotion_that_fails_to_load_is_reported_and_not_served(
    start_server: ServerFactory,
    server_settings: Settings,
    settings: PlatformSettings,
    tmp_path: Path,
    unique: str,
    key: str,
) -> None:
    engine = ScriptedEngine(failing_adapters={"bad"})
    base, model = str(server_settings.base_model_name), f"support-{unique}"
    await publish(settings, promoted(model, base, "bad", stored_adapter(server_settings, tmp_path, "bad")))
    with start_server(engine) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            missing = await http.post("/v1/completions", json={"model": model, "prompt": "x", "max_tokens": 1})
        [record] = await read_matching(
            settings.kafka_bootstrap, MODELS_SERVING.name, lambda r: json.loads(r.value)["model_name"] == model, 1
        )
    assert missing.status_code == 404
    assert ModelAdapterLoadFailedV1.model_validate_json(record.value).adapter_version == "bad"
