"""`llmops train start|status|watch|cancel` against the real broker: what lands on the topics, what is printed.

The topic names are fixed by the catalog, so each test keeps apart by its own job ids and tenants.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner, Result

from llmops_common.cli.main import app
from llmops_common.events import (
    ArtifactRef,
    DatasetSealedV1,
    Event,
    TrainingCancelRequestedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.topics import TRAINING_CONTROL, TRAINING_REQUESTS
from tests.support.topic_reader import headers_of, read_matching

AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cli_settings(settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads its settings from the environment: point it at the test's broker and data folder."""
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    monkeypatch.setenv("LLMOPS_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("LLMOPS_BASE_MODEL", raising=False)
    monkeypatch.delenv("LLMOPS_BASE_MODEL_NAME", raising=False)


async def llmops(*args: str) -> Result:
    """Runs the command in a thread: it runs an event loop of its own."""
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(app, list(args)))


def lines_of(result: Result) -> list[str]:
    """Printed lines without the spaces a rich grid pads them with."""
    return [line.rstrip() for line in result.stdout.splitlines()]


async def publish(settings: PlatformSettings, *events: Event) -> None:
    for event in events:
        await publish_once(settings, event, source="test")


async def requests_of(settings: PlatformSettings, job_id: str) -> list[TrainingRequestedV1]:
    records = await read_matching(
        settings.kafka_bootstrap, TRAINING_REQUESTS.name, lambda r: r.key == job_id.encode(), 1
    )
    return [TrainingRequestedV1.model_validate_json(record.value) for record in records]


def sealed(tenant: str, name: str, content: bytes) -> DatasetSealedV1:
    sha256 = hashlib.sha256(content).hexdigest()
    artifact = ArtifactRef(uri=f"file:///datasets/{sha256}", sha256=sha256, size_bytes=len(content))
    return DatasetSealedV1(
        name=name, version=sha256, tenant=tenant, artifact=artifact, rows=10, train_rows=9, eval_rows=1
    )


def progress(job_id: str, tenant: str, step: int) -> TrainingProgressV1:
    return TrainingProgressV1(
        job_id=job_id,
        tenant=tenant,
        model_name="support-bot",
        step=step,
        total_steps=200,
        loss=1.23456,
        learning_rate=0.0002,
        tokens_per_second=1234.4,
        eta_seconds=125,
        at=AT,
    )


def completed(job_id: str, tenant: str, *, failed: bool = False) -> TrainingCompletedV1:
    return TrainingCompletedV1(
        job_id=job_id,
        tenant=tenant,
        model_name="support-bot",
        base_model="tiny",
        status="failed" if failed else "succeeded",
        adapter_version=None if failed else "v7",
        metrics={} if failed else {"eval_loss": 0.81234},
        error="out of memory" if failed else None,
        duration_seconds=90.4,
        steps=None if failed else 200,
    )


async def test_start_publishes_the_request_with_the_given_version_and_typed_hyperparameters(
    settings: PlatformSettings, unique: str
) -> None:
    job_id = f"job-{unique}"
    result = await llmops(
        "train", "start", "--model", "support-bot", "--dataset", "faq@3f2a9c", "--tenant", f"t-{unique}",
        "--base-model", "org/base", "--job-id", job_id,
        "--hp", "lora_r=8", "--hp", "learning_rate=2e-4", "--hp", "packing=true", "--hp", "scheduler=cosine",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{job_id}\n"
    records = await read_matching(
        settings.kafka_bootstrap, TRAINING_REQUESTS.name, lambda r: r.key == job_id.encode(), 1
    )
    assert len(records) == 1
    assert headers_of(records[0])["ce_type"] == "llmops.training.requested.v1"
    assert headers_of(records[0])["ce_source"] == "llmops-cli"
    assert TrainingRequestedV1.model_validate_json(records[0].value) == TrainingRequestedV1(
        job_id=job_id,
        tenant=f"t-{unique}",
        model_name="support-bot",
        base_model="org/base",
        dataset="faq",
        dataset_version="3f2a9c",
        hyperparameters={"lora_r": 8, "learning_rate": 0.0002, "packing": True, "scheduler": "cosine"},
        dataset_artifact=None,
        reason="command",
        requested_by="cli",
    )
    # The JSON keeps each value's type: an int stays an int, a bool a bool.
    assert json.loads(records[0].value)["hyperparameters"] == {
        "lora_r": 8,
        "learning_rate": 0.0002,
        "packing": True,
        "scheduler": "cosine",
    }
    assert type(json.loads(records[0].value)["hyperparameters"]["lora_r"]) is int


async def test_start_resolves_the_tenants_latest_sealed_version_and_names_a_job(
    settings: PlatformSettings, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"t-{unique}"
    older, newer = sealed(tenant, "faq", b"old rows"), sealed(tenant, "faq", b"new rows")
    await publish(settings, older, newer, sealed(f"other-{unique}", "faq", b"someone else's rows"))
    monkeypatch.setenv("LLMOPS_BASE_MODEL", "org/configured-base")

    for dataset in ("faq", "faq@latest"):
        result = await llmops("train", "start", "--model", "support-bot", "--dataset", dataset, "--tenant", tenant)

        assert result.exit_code == 0, result.output
        job_id = result.stdout.strip()
        assert re.fullmatch(r"support-bot-\d{8}-\d{6}-[0-9a-f]{4}", job_id)
        [request] = await requests_of(settings, job_id)
        assert (request.dataset, request.dataset_version, request.dataset_artifact) == (
            "faq",
            newer.version,
            newer.artifact,
        )
        assert (request.base_model, request.tenant, request.hyperparameters) == ("org/configured-base", tenant, {})


async def test_start_on_an_unknown_dataset_exits_1_and_says_so(unique: str) -> None:
    result = await llmops("train", "start", "--model", "m", "--dataset", f"none-{unique}", "--tenant", f"t-{unique}")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: tenant t-{unique} has no sealed version of dataset 'none-{unique}' on llmops.data.datasets; "
        f"seal one with `llmops data seal none-{unique}`\n"
    )


async def test_start_names_the_base_model_as_the_trainer_does_or_exits_1_without_one(
    settings: PlatformSettings, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("train", "start", "--model", "m", "--dataset", "faq@v1", "--tenant", f"t-{unique}")
    nothing = await llmops(*args, "--job-id", f"none-{unique}")
    monkeypatch.setenv("LLMOPS_BASE_MODEL_NAME", "tiny-chat")
    named = await llmops(*args, "--job-id", f"named-{unique}")

    assert nothing.exit_code == 1
    assert nothing.stderr == (
        "error: no base model: set LLMOPS_BASE_MODEL or run `llmops model init`, or pass --base-model\n"
    )
    assert named.exit_code == 0, named.output
    [request] = await requests_of(settings, f"named-{unique}")
    assert request.base_model == "tiny-chat"


async def test_status_shows_progress_then_the_outcome(settings: PlatformSettings, unique: str) -> None:
    job_id, tenant = f"job-{unique}", f"t-{unique}"
    unknown = await llmops("train", "status", job_id)
    assert unknown.exit_code == 1
    assert unknown.stderr == f"error: no job '{job_id}' on the training topics (requests, progress, completed)\n"

    request = TrainingRequestedV1(
        job_id=job_id,
        tenant=tenant,
        model_name="support-bot",
        base_model="tiny",
        dataset="faq",
        dataset_version="ab" * 32,
    )
    await publish(settings, request, progress(job_id, tenant, 10), progress(job_id, tenant, 50))
    running = await llmops("train", "status", job_id)
    as_json = await llmops("train", "status", job_id, "--json")

    assert running.exit_code == 0, running.output
    line = running.stdout.rstrip()
    assert line.startswith(f"{job_id} ")
    for fragment in ("50/200 steps", " 25% ", "loss 1.2346", "lr 2.00e-04", "1,234 tok/s", "ETA 0:02:05"):
        assert fragment in line
    assert json.loads(as_json.stdout) == {
        "job_id": job_id,
        "state": "running",
        "tenant": tenant,
        "model_name": "support-bot",
        "base_model": "tiny",
        "dataset": "faq",
        "dataset_version": "ab" * 32,
        "step": 50,
        "total_steps": 200,
        "loss": 1.23456,
        "learning_rate": 0.0002,
        "tokens_per_second": 1234.4,
        "eta_seconds": 125.0,
        "progress_at": "2025-03-04T05:06:07Z",
        "cancel_reason": None,
        "adapter_version": None,
        "adapter_uri": None,
        "metrics": {},
        "error": None,
        "duration_seconds": None,
    }

    await publish(settings, completed(job_id, tenant))
    done = await llmops("train", "status", job_id)
    done_json = json.loads((await llmops("train", "status", job_id, "--json")).stdout)

    assert done.exit_code == 0, done.output
    assert lines_of(done) == [
        f"{job_id}: succeeded in 0:01:30",
        "model    support-bot (base tiny)",
        "adapter  v7",
        "steps    200",
        "metrics  eval_loss 0.8123",
    ]
    assert {key: done_json[key] for key in ("state", "adapter_version", "metrics", "duration_seconds", "step")} == {
        "state": "succeeded",
        "adapter_version": "v7",
        "metrics": {"eval_loss": 0.81234},
        "duration_seconds": 90.4,
        "step": 50,
    }


async def test_status_of_a_failed_job_shows_its_error(settings: PlatformSettings, unique: str) -> None:
    job_id = f"job-{unique}"
    await publish(settings, completed(job_id, f"t-{unique}", failed=True))

    result = await llmops("train", "status", job_id)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{job_id}: failed after 0:01:30: out of memory\n"


async def test_watch_exits_0_when_the_job_succeeds(settings: PlatformSettings, unique: str) -> None:
    job_id, tenant = f"job-{unique}", f"t-{unique}"
    await publish(settings, progress(job_id, tenant, 10))
    watching = asyncio.create_task(llmops("train", "watch", job_id, "--timeout", "60"))
    await asyncio.sleep(1.5)
    assert not watching.done()

    await publish(settings, progress(job_id, tenant, 150), completed(job_id, tenant))
    result = await asyncio.wait_for(watching, 30)

    assert result.exit_code == 0, result.output
    lines = lines_of(result)
    assert "10/200 steps" in lines[1]
    assert lines[-5:] == [
        f"{job_id}: succeeded in 0:01:30",
        "model    support-bot (base tiny)",
        "adapter  v7",
        "steps    200",
        "metrics  eval_loss 0.8123",
    ]


async def test_watch_exits_1_when_the_job_failed_and_124_when_time_runs_out(
    settings: PlatformSettings, unique: str
) -> None:
    job_id = f"job-{unique}"
    await publish(settings, completed(job_id, f"t-{unique}", failed=True))

    failed = await llmops("train", "watch", job_id)
    waiting = await llmops("train", "watch", f"never-{unique}", "--timeout", "1")

    assert failed.exit_code == 1, failed.output
    assert lines_of(failed)[-1] == f"{job_id}: failed after 0:01:30: out of memory"
    assert waiting.exit_code == 124, waiting.output
    assert lines_of(waiting)[-1] == f"never-{unique}: nothing on the training topics yet, waiting"
    assert waiting.stderr == f"error: never-{unique} did not end within 1s\n"


async def test_cancel_publishes_the_request_and_status_shows_it(settings: PlatformSettings, unique: str) -> None:
    job_id = f"job-{unique}"
    request = TrainingRequestedV1(
        job_id=job_id, tenant=f"t-{unique}", model_name="bot", base_model="tiny", dataset="faq", dataset_version="v1"
    )
    await publish(settings, request)

    result = await llmops("train", "cancel", job_id, "--reason", "wrong dataset")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"cancel requested for {job_id}\n"
    records = await read_matching(
        settings.kafka_bootstrap, TRAINING_CONTROL.name, lambda r: r.key == job_id.encode(), 1
    )
    assert [TrainingCancelRequestedV1.model_validate_json(r.value) for r in records] == [
        TrainingCancelRequestedV1(job_id=job_id, requested_by="cli", reason="wrong dataset")
    ]
    status = await llmops("train", "status", job_id)
    assert status.stdout == (
        f"{job_id}: requested, waiting for the trainer (bot on faq@v1); cancel requested: wrong dataset\n"
    )
