"""The trainer survives a SIGKILL mid-job, as real processes on the real broker: the restarted trainer
resumes from the last checkpoint in the artifact store (the step count goes on), the job completes
exactly once, and a trainer started after that trains and publishes nothing again."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import ConsumerRecord

from llmops_common.events import TrainingCompletedV1, TrainingProgressV1, TrainingRequestedV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import TRAINING_COMPLETED, TRAINING_PROGRESS
from tests.support.service_process import ServiceLauncher, launched, service_env
from tests.support.topic_reader import read_keyed, read_matching
from tests.support.training_data import seal_examples, ticket_examples

MAX_STEPS = 60
CHECKPOINT_EVERY = 5
KILL_AFTER_CHECKPOINT = 10
"""The first trainer is killed once progress says this checkpoint (or a later one) is in the store."""
SETTLE_SECONDS = 5.0
"""How long a topic is read again to see that nothing more arrives."""


@pytest.fixture
def trainers(settings: PlatformSettings, tiny_model: Path, tmp_path: Path) -> Iterator[ServiceLauncher]:
    """Trainer processes on the session's broker and this test's data folder; killed at the end, whatever
    happened, and their logs printed (pytest shows them when the test fails)."""
    env = service_env(
        settings.kafka_bootstrap,
        settings.data_dir,
        BASE_MODEL=str(tiny_model),
        TRAIN_CHECKPOINT_EVERY_STEPS=str(CHECKPOINT_EVERY),
        TRAIN_PROGRESS_EVERY_STEPS="1",
    )
    with launched("trainer", env, tmp_path) as launcher:
        yield launcher


def training_request(settings: PlatformSettings, tiny_model: Path, unique: str) -> TrainingRequestedV1:
    """A job on a dataset version sealed into the trainers' own artifact store."""
    sealed = seal_examples(
        open_artifact_store(settings), ticket_examples(40), tenant=f"t-{unique}", name=f"tickets-{unique}"
    )
    return TrainingRequestedV1(
        job_id=f"crash-{unique}",
        tenant=sealed.tenant,
        model_name=f"support-{unique}",
        base_model=str(tiny_model),
        dataset=sealed.name,
        dataset_version=sealed.version,
        dataset_artifact=sealed.artifact,
        hyperparameters={"max_steps": MAX_STEPS, "batch_size": 4, "dropout": 0.0},
        requested_by="test",
    )


def progress_of(record: ConsumerRecord[bytes, bytes]) -> TrainingProgressV1:
    """A progress record's event."""
    return TrainingProgressV1.model_validate_json(record.value)


async def completed_of(
    settings: PlatformSettings, job_id: str, count: int, timeout: float
) -> list[TrainingCompletedV1]:
    """Up to `count` terminal events of the job, waiting at most `timeout` seconds for them."""
    records = await read_keyed(settings.kafka_bootstrap, TRAINING_COMPLETED.name, job_id, count, timeout)
    return [TrainingCompletedV1.model_validate_json(record.value) for record in records]


def last_checkpoint_before(step: int) -> int | None:
    """The checkpoint a progress event of `step` names: a step's progress goes out before its checkpoint."""
    return (step - 1) // CHECKPOINT_EVERY * CHECKPOINT_EVERY or None


@pytest.mark.timeout(600)
async def test_a_killed_trainer_resumes_from_its_checkpoint_and_completes_the_job_once(
    trainers: ServiceLauncher, settings: PlatformSettings, tiny_model: Path, unique: str
) -> None:
    first = await trainers.start_ready(timeout=180)
    request = training_request(settings, tiny_model, unique)
    await publish_once(settings, request, source="test")

    # Killed mid-job, once a checkpoint past the first is safely in the artifact store.
    checkpointed_records = await read_matching(
        settings.kafka_bootstrap,
        TRAINING_PROGRESS.name,
        lambda r: r.key == request.job_id.encode() and (progress_of(r).checkpoint_step or 0) >= KILL_AFTER_CHECKPOINT,
        1,
        240,
    )
    first.kill()
    checkpointed = progress_of(checkpointed_records[0])
    killed_at = datetime.now(UTC)
    assert first.process.returncode == -signal.SIGKILL
    second = await trainers.start_ready(timeout=180)

    [completed] = await completed_of(settings, request.job_id, 1, 240)
    assert completed.status == "succeeded", completed.error
    assert completed.steps == MAX_STEPS
    assert completed.adapter is not None
    assert completed.adapter_version == f"lora-{request.job_id}"
    # Read again a few seconds later: still one terminal event, and every progress event of the job.
    again, progress_records = await asyncio.gather(
        completed_of(settings, request.job_id, 2, SETTLE_SECONDS),
        read_keyed(settings.kafka_bootstrap, TRAINING_PROGRESS.name, request.job_id, 2 * MAX_STEPS, SETTLE_SECONDS),
    )
    assert again == [completed]

    progress = [progress_of(record) for record in progress_records]
    first_run = [p for p in progress if p.at < killed_at]
    second_run = [p for p in progress if p.at > killed_at]
    assert first_run + second_run == progress
    reached = first_run[-1].step
    assert [p.step for p in first_run] == list(range(1, reached + 1))
    assert reached < MAX_STEPS, "the first trainer finished before it was killed"
    # The second trainer goes on after a checkpoint at least as late as the one progress had named.
    resumed = second_run[0].step - 1
    assert checkpointed.checkpoint_step is not None
    assert resumed >= checkpointed.checkpoint_step >= KILL_AFTER_CHECKPOINT
    assert resumed % CHECKPOINT_EVERY == 0
    assert [p.step for p in second_run] == list(range(resumed + 1, MAX_STEPS + 1))
    assert [p.checkpoint_step for p in progress] == [last_checkpoint_before(p.step) for p in progress]
    assert {p.total_steps for p in progress} == {MAX_STEPS}
    assert f"resuming from a checkpoint at step {resumed}" in second.log()
    assert "resuming from a checkpoint" not in first.log()

    # Stopped and started again: the request's offset was committed after the terminal event, and the
    # store knows the job, so the third trainer neither trains it nor publishes its end again.
    # uvicorn re-raises the signal once it has shut down cleanly, so the status is that of SIGTERM.
    assert second.stop() == -signal.SIGTERM
    assert "Application shutdown complete." in second.log()
    third = await trainers.start_ready(timeout=180)
    # A job that fails at once shows the third trainer reading requests.
    marker = request.model_copy(update={"job_id": f"marker-{unique}", "hyperparameters": {"lerning_rate": 0.1}})
    await publish_once(settings, marker, source="test")
    [marker_done] = await completed_of(settings, marker.job_id, 1, 120)
    assert marker_done.status == "failed"
    assert marker_done.error == "unknown hyperparameter 'lerning_rate'"
    still, progress_still = await asyncio.gather(
        completed_of(settings, request.job_id, 2, SETTLE_SECONDS),
        read_keyed(settings.kafka_bootstrap, TRAINING_PROGRESS.name, request.job_id, 2 * MAX_STEPS, SETTLE_SECONDS),
    )
    assert still == [completed]
    assert len(progress_still) == len(progress)
    assert "training started" not in third.log()
