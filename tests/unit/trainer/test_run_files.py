"""The JSON files a parent process hands a torchrun run and reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmops_common.events.base import ArtifactRef
from services.trainer.hyperparameters import InvalidHyperparametersError, parse_hyperparameters
from services.trainer.lora_run import RunResult, RunSpec
from services.trainer.run_files import (
    read_result,
    read_spec,
    read_spec_document,
    read_stored_adapter,
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


def test_the_card_names_travel_with_the_spec_and_older_specs_lack_them(tmp_path: Path) -> None:
    spec = RunSpec(
        job_id="job-1",
        base_model="/models/base",
        train_rows=[dataset_row(prompt="Hi", completion="Hello")],
        eval_rows=[],
        hyperparameters=parse_hyperparameters({}),
        work_dir=tmp_path / "work",
    )
    write_spec(spec, tmp_path / "named.json", model_name="support-assistant", dataset="support-faq@v3")
    named = read_spec_document(tmp_path / "named.json")
    assert (named.model_name, named.dataset) == ("support-assistant", "support-faq@v3")
    assert named.spec() == spec

    (tmp_path / "older.json").write_text('{"job_id": "j", "base_model": "m", "train_rows": [], "work_dir": "w"}')
    older = read_spec_document(tmp_path / "older.json")
    assert (older.model_name, older.dataset) == (None, None)


def run_result(tmp_path: Path) -> RunResult:
    return RunResult(
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


def test_a_result_comes_back_as_it_was_written(tmp_path: Path) -> None:
    result = run_result(tmp_path)
    write_result(result, tmp_path / "result.json")
    assert read_result(tmp_path / "result.json") == result
    assert read_stored_adapter(tmp_path / "result.json") is None


def test_a_result_names_the_stored_adapter_as_an_artifact_ref(tmp_path: Path) -> None:
    ref = ArtifactRef(uri="s3://llmops-artifacts/sha256/ab/" + "ab" * 32, sha256="ab" * 32, size_bytes=20480)
    write_result(run_result(tmp_path), tmp_path / "result.json", ref)
    assert json.loads((tmp_path / "result.json").read_text())["adapter"] == {
        "uri": ref.uri,
        "sha256": ref.sha256,
        "size_bytes": 20480,
    }
    assert read_stored_adapter(tmp_path / "result.json") == ref
    assert read_result(tmp_path / "result.json") == run_result(tmp_path)


def test_a_cancelled_result_raises_with_its_reason(tmp_path: Path) -> None:
    write_cancelled("stopped by alice", tmp_path / "result.json")
    with pytest.raises(TrainingCancelledError, match="stopped by alice"):
        read_result(tmp_path / "result.json")
    with pytest.raises(TrainingCancelledError, match="stopped by alice"):
        read_stored_adapter(tmp_path / "result.json")
