"""A run's spec and result as JSON files: how a parent process hands a run to torchrun and reads it back.

The spec's hyperparameters travel in their flat request form, so the file reads like a training
request; a cancelled run's result file holds only the reason. A finished run's result may name the
artifact its adapter was stored as (`adapter`, an `ArtifactRef`), which `read_stored_adapter` reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from llmops_common.events.base import ArtifactRef

from .hyperparameters import HyperparameterValue, parse_hyperparameters
from .lora_run import RunResult, RunSpec
from .run_hooks import TrainingCancelledError


class RunSpecDocument(BaseModel):
    """The JSON form of a `RunSpec`: paths as text, hyperparameters flat."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    base_model: str
    train_rows: list[dict[str, Any]]
    eval_rows: list[dict[str, Any]] = []
    hyperparameters: dict[str, HyperparameterValue] = {}
    work_dir: str
    resume_from: str | None = None
    checkpoint_every_steps: int = 50
    progress_every_steps: int = 10
    full_fine_tune: bool = False
    # Neither changes the training: they name the adapter in its model card. The service takes them from
    # the training request; a spec handed to the distributed job by hand may leave them out.
    model_name: str | None = None
    """The deployed model the adapter is for; the card falls back to the job id."""
    dataset: str | None = None
    """The dataset version the rows come from, as `name@version`."""

    @classmethod
    def of(cls, spec: RunSpec, *, model_name: str | None = None, dataset: str | None = None) -> RunSpecDocument:
        """The document of a spec, with the names its model card gives the adapter and the data."""
        return cls(
            model_name=model_name,
            dataset=dataset,
            job_id=spec.job_id,
            base_model=str(spec.base_model),
            train_rows=spec.train_rows,
            eval_rows=spec.eval_rows,
            hyperparameters=spec.hyperparameters.as_flat_dict(),
            work_dir=str(spec.work_dir),
            resume_from=str(spec.resume_from) if spec.resume_from else None,
            checkpoint_every_steps=spec.checkpoint_every_steps,
            progress_every_steps=spec.progress_every_steps,
            full_fine_tune=spec.full_fine_tune,
        )

    def spec(self) -> RunSpec:
        """The spec; raises `InvalidHyperparametersError` for bad hyperparameters."""
        return RunSpec(
            job_id=self.job_id,
            base_model=self.base_model,
            train_rows=self.train_rows,
            eval_rows=self.eval_rows,
            hyperparameters=parse_hyperparameters(self.hyperparameters),
            work_dir=Path(self.work_dir),
            resume_from=Path(self.resume_from) if self.resume_from else None,
            checkpoint_every_steps=self.checkpoint_every_steps,
            progress_every_steps=self.progress_every_steps,
            full_fine_tune=self.full_fine_tune,
        )


def write_spec(spec: RunSpec, path: Path, *, model_name: str | None = None, dataset: str | None = None) -> None:
    """Writes the spec's JSON; rows hold only JSON values (as a dataset version's rows do)."""
    path.write_text(RunSpecDocument.of(spec, model_name=model_name, dataset=dataset).model_dump_json())


def read_spec_document(path: Path) -> RunSpecDocument:
    """The document in a spec file, names included; `.spec()` gives the run."""
    return RunSpecDocument.model_validate_json(path.read_text())


def read_spec(path: Path) -> RunSpec:
    """The spec in a file `write_spec` wrote."""
    return read_spec_document(path).spec()


def write_result(result: RunResult, path: Path, adapter: ArtifactRef | None = None) -> None:
    """Writes a finished run's result, naming the artifact its adapter was stored as where it was."""
    document: dict[str, Any] = {
        "adapter_dir": str(result.adapter_dir),
        "steps": result.steps,
        "train_loss": result.train_loss,
        "eval_loss": result.eval_loss,
        "tokens_trained": result.tokens_trained,
        "tokens_per_second": result.tokens_per_second,
        "duration_seconds": result.duration_seconds,
        "loss_curve": result.loss_curve,
        "data_counts": result.data_counts,
    }
    if adapter is not None:
        document["adapter"] = adapter.model_dump(mode="json")
    path.write_text(json.dumps(document))


def write_cancelled(reason: str, path: Path) -> None:
    """Writes a cancelled run's reason."""
    path.write_text(json.dumps({"cancelled": reason}))


def read_result(path: Path) -> RunResult:
    """The result in a file; raises `TrainingCancelledError` if the run was cancelled."""
    document = json.loads(path.read_text())
    if "cancelled" in document:
        raise TrainingCancelledError(document["cancelled"])
    return RunResult(
        adapter_dir=Path(document["adapter_dir"]),
        steps=document["steps"],
        train_loss=document["train_loss"],
        eval_loss=document["eval_loss"],
        tokens_trained=document["tokens_trained"],
        tokens_per_second=document["tokens_per_second"],
        duration_seconds=document["duration_seconds"],
        loss_curve=[(int(step), float(loss)) for step, loss in document["loss_curve"]],
        data_counts=document["data_counts"],
    )


def read_stored_adapter(path: Path) -> ArtifactRef | None:
    """The artifact a finished run's adapter was stored as; None where the run stored none (`--no-upload`).
    Raises `TrainingCancelledError` if the run was cancelled."""
    document = json.loads(path.read_text())
    if "cancelled" in document:
        raise TrainingCancelledError(document["cancelled"])
    return ArtifactRef.model_validate(document["adapter"]) if "adapter" in document else None
