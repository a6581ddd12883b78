"""With a tracking URI, a finished job is an MLflow run: parameters, the loss per step, final metrics and the
adapter with its card; a tracking server that cannot take it costs the run, never the job."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from llmops_common.events import TrainingRequestedV1
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunResult
from services.trainer.mlflow_log import MlflowLog

REQUEST = TrainingRequestedV1(
    job_id="job-1",
    tenant="acme",
    model_name="support-assistant",
    base_model="tiny-base",
    dataset="feedback-support-assistant",
    dataset_version="abc123",
)


def result(adapter: Path) -> RunResult:
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    (adapter / "README.md").write_text("---\nlibrary_name: peft\n---\n")
    return RunResult(
        adapter_dir=adapter,
        steps=3,
        train_loss=1.5,
        eval_loss=None,
        tokens_trained=300,
        tokens_per_second=100.0,
        duration_seconds=3.0,
        loss_curve=[(1, 2.0), (2, 1.5), (3, 1.0)],
    )


def test_a_run_has_the_params_the_loss_curve_and_the_adapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A folder store keeps the test offline; MLflow 3 asks for an explicit opt-in to it.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    hyperparameters = LoraHyperparameters(r=4, max_steps=3)
    adapter = result(tmp_path / "adapter")
    run_id = MlflowLog(uri, "fine-tunes").log(REQUEST, hyperparameters, adapter, {"train_loss": 1.5})
    assert run_id is not None

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    assert run.info.run_name == "job-1"
    assert run.info.status == "FINISHED"
    assert run.data.tags["llmops.model_name"] == "support-assistant"
    assert run.data.params["r"] == "4"
    assert run.data.params["dataset"] == "feedback-support-assistant@abc123"
    assert run.data.params["base_model"] == "tiny-base"
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(1, 2.0), (2, 1.5), (3, 1.0)]
    assert run.data.metrics["train_loss"] == 1.5
    assert {a.path for a in client.list_artifacts(run_id, "adapter")} == {
        "adapter/README.md",
        "adapter/adapter_model.safetensors",
    }


def test_an_unreachable_tracking_server_costs_only_the_run(tmp_path: Path) -> None:
    log = MlflowLog("http://127.0.0.1:9", "fine-tunes")
    hyperparameters = LoraHyperparameters()
    assert log.log(REQUEST, hyperparameters, result(tmp_path / "adapter"), {}) is None


def test_without_a_tracking_uri_nothing_is_logged(tmp_path: Path) -> None:
    log = MlflowLog(None, "fine-tunes")
    assert not log.enabled
    assert log.log(REQUEST, LoraHyperparameters(), result(tmp_path / "adapter"), {}) is None
