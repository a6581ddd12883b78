"""The trainer on the real broker: a sealed feedback dataset makes auto-retrain ask for a job, the job
trains a real LoRA adapter on the tiny model with progress and checkpoints, a redelivered request trains
nothing, bad hyperparameters and unknown datasets fail the job with the reason, and a cancel stops it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from llmops_common.events import (
    DatasetSealedV1,
    TrainingCancelRequestedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import TRAINING_COMPLETED, TRAINING_PROGRESS, TRAINING_REQUESTS
from services.trainer.app import create_app
from services.trainer.settings import RetrainPolicy, Settings
from tests.support.topic_reader import read_keyed, read_matching
from tests.support.training_data import seal_examples, ticket_examples

TRAIN_STEPS = 24


@pytest.fixture
def model_name(unique: str) -> str:
    return f"support-{unique}"


@pytest.fixture
def trainer_settings(settings: PlatformSettings, tiny_model: Path, model_name: str, unique: str) -> Settings:
    policy = RetrainPolicy(
        tenant=f"t-{unique}",
        min_new_examples=40,
        hyperparameters={"max_steps": TRAIN_STEPS, "learning_rate": 0.003, "batch_size": 8, "dropout": 0.0},
    )
    return Settings(
        **{**settings.model_dump(), "base_model": str(tiny_model)},
        retrain_policies={model_name: policy},
        train_checkpoint_every_steps=8,
        train_progress_every_steps=4,
    )


@pytest.fixture
def trainer(trainer_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(trainer_settings)) as client:
        yield client


async def completed_of(settings: PlatformSettings, job_id: str, count: int = 1) -> list[TrainingCompletedV1]:
    records = await read_keyed(settings.kafka_bootstrap, TRAINING_COMPLETED.name, job_id, count, 120)
    return [TrainingCompletedV1.model_validate_json(record.value) for record in records]


def sealed_feedback(settings: PlatformSettings, unique: str, model_name: str, count: int = 60) -> DatasetSealedV1:
    artifacts = open_artifact_store(settings)
    return seal_examples(artifacts, ticket_examples(count), tenant=f"t-{unique}", name=f"feedback-{model_name}")


@pytest.mark.timeout(240)
async def test_sealed_feedback_trains_an_adapter_once(
    trainer: TestClient, settings: PlatformSettings, unique: str, model_name: str
) -> None:
    sealed = sealed_feedback(settings, unique, model_name)
    await publish_once(settings, sealed, source="ingestion")

    [request_record] = await read_matching(
        settings.kafka_bootstrap,
        TRAINING_REQUESTS.name,
        lambda r: TrainingRequestedV1.model_validate_json(r.value).model_name == model_name,
        1,
        30,
    )
    request = TrainingRequestedV1.model_validate_json(request_record.value)
    assert request.dataset == f"feedback-{model_name}"
    assert request.dataset_version == sealed.version
    assert request.reason == f"feedback: {sealed.rows} new examples in feedback-{model_name}@{sealed.version[:12]}"
    assert request.requested_by == "trainer:auto-retrain"

    [completed] = await completed_of(settings, request.job_id)
    assert completed.status == "succeeded", completed.error
    assert completed.steps == TRAIN_STEPS
    assert completed.adapter is not None
    assert completed.adapter_version == f"lora-{request.job_id}"
    assert completed.metrics["train_loss"] > 0
    adapter = open_artifact_store(settings).fetch_folder(completed.adapter, settings.data_dir / "fetched")
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= {p.name for p in adapter.iterdir()}
    assert "library_name: peft" in (adapter / "README.md").read_text()

    progress = [
        TrainingProgressV1.model_validate_json(r.value)
        for r in await read_keyed(settings.kafka_bootstrap, TRAINING_PROGRESS.name, request.job_id, 6)
    ]
    assert [p.step for p in progress] == [4, 8, 12, 16, 20, 24]
    assert all(p.total_steps == TRAIN_STEPS for p in progress)
    # Checkpoints every 8 steps reach the store; progress names the last one stored before it (a step's
    # progress goes out before that step's checkpoint is written).
    assert [p.checkpoint_step for p in progress] == [None, None, 8, 8, 16, 16]

    # The same request again: the finished job's event is published again, nothing is trained.
    await publish_once(settings, request, source="test")
    first, again = await completed_of(settings, request.job_id, 2)
    assert again == first
    progress_after = await read_keyed(settings.kafka_bootstrap, TRAINING_PROGRESS.name, request.job_id, 7, 3)
    assert len(progress_after) == 6


@pytest.mark.timeout(120)
async def test_bad_input_fails_the_job_with_the_reason(
    trainer: TestClient, settings: PlatformSettings, unique: str, model_name: str, trainer_settings: Settings
) -> None:
    sealed = sealed_feedback(settings, unique, model_name, count=30)
    common = {
        "tenant": f"t-{unique}",
        "model_name": model_name,
        "base_model": str(trainer_settings.base_model),
        "dataset": sealed.name,
    }
    typo = TrainingRequestedV1(
        job_id=f"typo-{unique}",
        dataset_version=sealed.version,
        dataset_artifact=sealed.artifact,
        hyperparameters={"lerning_rate": 0.1, "r": 0},
        **common,
    )
    unknown = TrainingRequestedV1(job_id=f"unknown-{unique}", dataset_version="0" * 64, **common)
    for request in (typo, unknown):
        await publish_once(settings, request, source="test")

    [typo_done] = await completed_of(settings, typo.job_id)
    assert typo_done.status == "failed"
    assert typo_done.error == "unknown hyperparameter 'lerning_rate'; r must be >= 1"
    [unknown_done] = await completed_of(settings, unknown.job_id)
    assert unknown_done.status == "failed"
    assert unknown_done.error == (f"unknown dataset version {sealed.name}@{'0' * 64} of tenant t-{unique}")


@pytest.mark.timeout(180)
async def test_a_cancel_stops_a_running_job(
    trainer: TestClient, settings: PlatformSettings, unique: str, model_name: str, trainer_settings: Settings
) -> None:
    sealed = sealed_feedback(settings, unique, model_name, count=30)
    request = TrainingRequestedV1(
        job_id=f"long-{unique}",
        tenant=f"t-{unique}",
        model_name=model_name,
        base_model=str(trainer_settings.base_model),
        dataset=sealed.name,
        dataset_version=sealed.version,
        dataset_artifact=sealed.artifact,
        hyperparameters={"max_steps": 100_000, "batch_size": 2},
    )
    await publish_once(settings, request, source="test")
    await read_keyed(settings.kafka_bootstrap, TRAINING_PROGRESS.name, request.job_id, 1, 60)
    await publish_once(settings, TrainingCancelRequestedV1(job_id=request.job_id, reason="wrong data"), source="cli")

    [done] = await completed_of(settings, request.job_id)
    assert done.status == "failed"
    assert done.error == "cancelled: wrong data"
