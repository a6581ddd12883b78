"""The deployment controller without a broker: loads before it swaps, keeps leased adapters loaded,
and reuses a loaded stable version that an event names without its artifact."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from llmops_common.events import ArtifactRef, ModelAdapterLoadFailedV1, ModelCanaryStartedV1, ModelPromotedV1
from llmops_common.storage.artifacts import ArtifactStore
from llmops_common.storage.local_blobs import LocalBlobs
from services.model_server.adapter_files import AdapterFiles
from services.model_server.lifecycle import DeploymentController
from tests.support.scripted_engine import ScriptedEngine

NOW = datetime.now(UTC)


def adapter(store: ArtifactStore, tmp_path: Path, version: str) -> ArtifactRef:
    folder = tmp_path / "src" / version
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"version": version}))
    return store.put_folder(folder)


async def applied(controller: DeploymentController, event: object) -> None:
    controller.on_event(event, None)  # type: ignore[arg-type]
    await controller.wait_idle()


async def test_a_leased_adapter_is_unloaded_only_after_its_request_ends(tmp_path: Path) -> None:
    store = ArtifactStore(LocalBlobs(tmp_path / "store"))
    engine, failures = ScriptedEngine(), list[ModelAdapterLoadFailedV1]()

    async def report(failure: ModelAdapterLoadFailedV1) -> None:
        failures.append(failure)

    controller = DeploymentController("tiny", engine, AdapterFiles(store, tmp_path / "cache"), report, server="t")
    runner = asyncio.create_task(controller.run())
    try:
        v1, v2 = adapter(store, tmp_path, "v1"), adapter(store, tmp_path, "v2")
        await applied(
            controller,
            ModelPromotedV1(
                model_name="m", base_model="tiny", adapter_version="v1", adapter=v1, changed_by="t", changed_at=NOW
            ),
        )
        route = controller.table.route("m", "u")
        assert route is not None
        controller.lease(route.served)
        await applied(
            controller,
            ModelPromotedV1(
                model_name="m", base_model="tiny", adapter_version="v2", adapter=v2, changed_by="t", changed_at=NOW
            ),
        )
        await asyncio.sleep(0.05)
        assert engine.unload_log == []
        assert controller.table.route("m", "u").served.version == "v2"  # type: ignore[union-attr]
        controller.release(route.served)
        await asyncio.sleep(0.05)
        assert engine.unload_log == [f"v1@{v1.sha256[:12]}"]

        canary = ModelCanaryStartedV1(
            model_name="m",
            base_model="tiny",
            stable_adapter_version="v2",
            candidate_adapter_version="v3",
            candidate_adapter=adapter(store, tmp_path, "v3"),
            candidate_percent=50,
            changed_by="t",
            changed_at=NOW,
        )
        await applied(controller, canary)
        deployment = controller.table.deployments["m"]
        assert deployment.stable.version == "v2"
        assert deployment.candidate is not None
        assert deployment.candidate.version == "v3"
        assert engine.load_log.count(f"v2@{v2.sha256[:12]}") == 1  # reused, not loaded again

        await applied(
            controller,
            ModelPromotedV1(
                model_name="other", base_model="another-base", adapter_version=None, changed_by="t", changed_at=NOW
            ),
        )
        assert "other" not in controller.table.deployments
        assert failures == []
    finally:
        runner.cancel()
