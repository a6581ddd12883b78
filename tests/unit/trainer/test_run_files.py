"""The JSON files a parent process hands a torchrun run and reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.trainer.hyperparameters import InvalidHyperparametersError, parse_hyperparameters
from services.trainer.lora_run import RunResult, RunSpec
from services.trainer.run_files import (
    read_result,
    read_spec,
    write_cancelled,
    write_result,
    write_spec,
)
from services.trainer.run_hooks import TrainingCancelledError
from tests.support.training_rows import dataset_row


def test_a_spec_comes_back_as_it_was_written(tmp_path: Path) -> None:
    spec = RunSpec(
        job_id="job-1",
        base_model="/models/base",
        train_rows=[dataset_row(messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}])],
        eval_rows=[dataset_row(prompt="Hi", completion="Hello", split="eval")],
        hyperparameters=parse_hyperparameters({"r": 4, "target_modules": "q_proj,v_proj", "max_steps": 6}),
        work_dir=tmp_path / "work",
        resume_from=tmp_path / "work" / "checkpoints" / "checkpoint-4",
        checkpoint_every_steps=4,
        progress_every_steps=2,
    )
    write_spec(spec, tmp_path / "spec.json")
    assert read_spec(tmp_path / "spec.json") == spec


def test_a_spec_with_bad_hyperparameters_is_refused_on_reading(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(
        '{"job_id": "j", "base_model": "m", "train_rows": [], "work_dir": "w", "hyperparameters": {"r": 0}}'
    )
    with pytest.raises(InvalidHyperparametersError, match="r must be >= 1"):
        read_spec(tmp_path / "spec.json")


def test_a_result_comes_back_as_it_was_written(tmp_path: Path) -> None:
    result = RunResult(
        adapter_dir=tmp_path / "adapter",
        steps=2,
        train_loss=1.5,
        eval_loss=None,
        tokens_trained=100,
        tokens_per_second=50.0,
        duration_seconds=2.0,
        loss_curve=[(1, 2.0), (2, 1.5)],
        data_counts={"rows": 3, "examples": 2},
    )
    write_result(result, tmp_path / "result.json")
    assert read_result(tmp_path / "result.json") == result


def test_a_cancelled_result_raises_with_its_reason(tmp_path: Path) -> None:
    write_cancelled("stopped by alice", tmp_path / "result.json")
    with pytest.raises(TrainingCancelledError, match="stopped by alice"):
        read_result(tmp_path / "result.json")
