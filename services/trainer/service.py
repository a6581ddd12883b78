"""The trainer's work: one training request in, one terminal `TrainingCompletedV1` out, exactly once.

A job is done once the store holds its terminal event; a redelivered request re-publishes that event and
trains nothing. A job that was interrupted (the process killed) resumes from its last checkpoint in the
artifact store, so the step count goes on. Bad input (unknown hyperparameters, an unknown dataset
version, a dataset with nothing to learn) ends the job as failed, with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import time
from pathlib import Path

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.dataset_rows import read_dataset_rows
from llmops_common.errors import PermanentError
from llmops_common.events import TrainingCompletedV1, TrainingRequestedV1
from llmops_common.events.base import ArtifactRef
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.storage.artifacts import ArtifactStore

from .base_model import TrainerBaseModel
from .hyperparameters import LoraHyperparameters, parse_hyperparameters
from .job_hooks import JobHooks
from .lora_run import RunResult, RunSpec, run_lora_training
from .mlflow_log import MlflowLog
from .model_card import render_model_card
from .run_hooks import TrainingCancelledError
from .settings import Settings
from .store import Checkpoint, TrainerStore

log = logging.getLogger(__name__)


class JobFailedError(PermanentError):
    """The job cannot succeed as asked; it completes as failed with this message."""


class ServiceStoppingError(Exception):
    """The service stopped a job to shut down; the job is not finished and resumes at the next start."""


class TrainerService:
    """Runs training requests one at a time, in a worker thread, so the loop keeps serving Kafka and HTTP."""

    def __init__(
        self,
        settings: Settings,
        store: TrainerStore,
        datasets: DatasetVersionIndex,
        artifacts: ArtifactStore,
        publisher: EventPublisher,
        base_model: TrainerBaseModel,
    ) -> None:
        self._settings = settings
        self._store = store
        self._datasets = datasets
        self._cancelled: dict[str, str] = {}
        self._artifacts = artifacts
        self._publisher = publisher
        self._base_model = base_model
        self._stopping = False
        self._mlflow = MlflowLog(settings.mlflow_tracking_uri, settings.mlflow_experiment)

    async def handle(self, request: TrainingRequestedV1) -> TrainingCompletedV1:
        """Runs the job unless it is done, publishes its terminal event, and returns it."""
        completed = self._store.completed(request.job_id)
        if completed is None:
            completed = await self._run(request)
            # Kept before it is published: a crash in between re-publishes it on redelivery.
            self._store.finish(completed)
        await self._publisher.publish(completed)
        return completed

    def cancel(self, job_id: str, reason: str) -> None:
        """Cancels a job: a running one stops at its next step, a queued one never starts."""
        self._store.cancel(job_id, reason)
        self._cancelled[job_id] = reason

    def stop(self) -> None:
        """Stops the running job at its next step without finishing it (the service is shutting down)."""
        self._stopping = True

    async def _run(self, request: TrainingRequestedV1) -> TrainingCompletedV1:
        started = time.monotonic()
        try:
            cancelled = self._store.cancel_reason(request.job_id)
            if cancelled is not None:
                raise JobFailedError(f"cancelled before it started: {cancelled}")
            hyperparameters = parse_hyperparameters(request.hyperparameters)
            dataset = self._dataset_artifact(request)
            result = await self._train(request, hyperparameters, dataset)
        except TrainingCancelledError as cancelled_error:
            if self._stopping:
                raise ServiceStoppingError(request.job_id) from cancelled_error
            return _failed(request, f"cancelled: {cancelled_error}", started)
        except PermanentError as error:
            # Bad hyperparameters, an unknown dataset or base model, nothing to learn: no retry helps.
            return _failed(request, error.message, started)
        return self._succeeded(request, hyperparameters, dataset, result)

    def _dataset_artifact(self, request: TrainingRequestedV1) -> ArtifactRef:
        if request.dataset_artifact is not None:
            return request.dataset_artifact
        sealed = self._datasets.find(request.tenant, request.dataset, request.dataset_version)
        if sealed is None:
            raise JobFailedError(
                f"unknown dataset version {request.dataset}@{request.dataset_version} of tenant {request.tenant}"
            )
        return sealed.artifact

    async def _train(
        self, request: TrainingRequestedV1, hyperparameters: LoraHyperparameters, dataset: ArtifactRef
    ) -> RunResult:
        base_path = self._base_model_path(request.base_model)
        rows = read_dataset_rows(self._artifacts.get_bytes(dataset))
        train_rows = [row for row in rows if row["split"] == "train"]
        if not train_rows:
            raise JobFailedError(f"{request.dataset}@{request.dataset_version} has no training examples")
        work_dir = self._settings.state_dir / "jobs" / request.job_id
        checkpoint = self._store.checkpoint(request.job_id)
        spec = RunSpec(
            job_id=request.job_id,
            base_model=base_path,
            train_rows=train_rows,
            eval_rows=[row for row in rows if row["split"] == "eval"],
            hyperparameters=hyperparameters,
            work_dir=work_dir,
            resume_from=self._resume_folder(request.job_id, checkpoint, work_dir) if checkpoint else None,
            checkpoint_every_steps=self._settings.train_checkpoint_every_steps,
            progress_every_steps=self._settings.train_progress_every_steps,
        )
        hooks = JobHooks(
            request,
            loop=asyncio.get_running_loop(),
            publish=self._publisher.publish,
            store=self._store,
            artifacts=self._artifacts,
            resumed_checkpoint_step=checkpoint.step if checkpoint else None,
            stop_reason=lambda: "service stopping" if self._stopping else self._cancelled.get(request.job_id),
        )
        log.info("training started", extra={"job_id": request.job_id, "resume_from": str(spec.resume_from)})
        try:
            result = await asyncio.to_thread(run_lora_training, spec, hooks)
        except (ValueError, RuntimeError, OSError) as error:
            # The run itself refused the data or the model (too long, wrong shape, unloadable): no retry helps.
            raise JobFailedError(f"training failed: {type(error).__name__}: {error}") from error
        finally:
            await hooks.flush()
        diverged = [(step, loss) for step, loss in result.loss_curve if not math.isfinite(loss)]
        if diverged or not math.isfinite(result.train_loss):
            step, loss = diverged[0] if diverged else (result.steps, result.train_loss)
            # An adapter trained through a non-finite loss holds NaNs: nothing to evaluate or serve.
            raise JobFailedError(f"training diverged: the loss was {loss} at step {step}; lower the learning rate")
        return result

    def _base_model_path(self, requested: str) -> str:
        base_model = self._base_model.resolve()
        if requested in (base_model.name, base_model.path):
            return base_model.path
        if Path(requested).is_dir():
            return requested
        raise JobFailedError(
            f"this trainer fine-tunes {base_model.name!r}; {requested!r} is neither it nor a model folder"
        )

    def _resume_folder(self, job_id: str, checkpoint: Checkpoint, work_dir: Path) -> Path:
        folder = work_dir / "resume" / f"checkpoint-{checkpoint.step}"
        shutil.rmtree(folder, ignore_errors=True)
        self._artifacts.fetch_folder(checkpoint.artifact, folder)
        log.info("resuming from a checkpoint at step %d", checkpoint.step, extra={"job_id": job_id})
        return folder

    def _succeeded(
        self,
        request: TrainingRequestedV1,
        hyperparameters: LoraHyperparameters,
        dataset: ArtifactRef,
        result: RunResult,
    ) -> TrainingCompletedV1:
        card = render_model_card(
            job_id=request.job_id,
            model_name=request.model_name,
            base_model=request.base_model,
            dataset=f"{request.dataset}@{request.dataset_version}",
            hyperparameters=hyperparameters,
            result=result,
        )
        (result.adapter_dir / "README.md").write_text(card)
        adapter = self._artifacts.put_folder(result.adapter_dir)
        card_ref = self._artifacts.put_bytes(card.encode())
        metrics = {"train_loss": result.train_loss, "tokens_trained": float(result.tokens_trained)}
        if result.eval_loss is not None:
            metrics["eval_loss"] = result.eval_loss
        # This session's rate: a resumed job's token count includes steps trained before the restart.
        metrics["tokens_per_second"] = result.tokens_per_second
        self._mlflow.log(request, hyperparameters, result, metrics)
        return TrainingCompletedV1(
            job_id=request.job_id,
            tenant=request.tenant,
            model_name=request.model_name,
            base_model=request.base_model,
            status="succeeded",
            adapter_version=f"lora-{request.job_id}",
            adapter=adapter,
            metrics=metrics,
            duration_seconds=result.duration_seconds,
            dataset=request.dataset,
            dataset_version=request.dataset_version,
            dataset_artifact=dataset,
            model_card=card_ref,
            hyperparameters=hyperparameters.as_flat_dict(),
            steps=result.steps,
        )


def _failed(request: TrainingRequestedV1, reason: str, started: float) -> TrainingCompletedV1:
    log.warning("training job failed", extra={"job_id": request.job_id, "reason": reason})
    return TrainingCompletedV1(
        job_id=request.job_id,
        tenant=request.tenant,
        model_name=request.model_name,
        base_model=request.base_model,
        status="failed",
        error=reason,
        duration_seconds=time.monotonic() - started,
        dataset=request.dataset,
        dataset_version=request.dataset_version,
    )
