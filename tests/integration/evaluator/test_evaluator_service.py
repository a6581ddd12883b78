"""The evaluator on the real broker: a fine-tune that learned the task passes the gate with a CI above 0
and starts a canary owned by its tenant; a broken one is rejected and production is untouched; a
redelivered `training.completed` gives one evaluation; another tenant's model is neither a baseline nor
replaced."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from llmops_common.dataset_rows import read_dataset_rows
from llmops_common.events import DatasetSealedV1, EvalCompletedV1, ModelCanaryStartedV1, ModelPromotedV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore, open_artifact_store
from llmops_common.topics import EVAL_COMPLETED, MODELS_LIFECYCLE
from services.evaluator.app import create_app
from services.evaluator.gate import GatePolicy
from services.evaluator.settings import ModelEvalPolicy, Settings
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunSpec, run_lora_training
from tests.support.tiny_models import make_lora_adapter
from tests.support.topic_reader import read_keyed
from tests.support.training_data import seal_examples, succeeded_training, ticket_examples

GATE = GatePolicy(min_examples=8)


@pytest.fixture
def model_name(unique: str) -> str:
    return f"support-{unique}"


@pytest.fixture
def sealed(settings: PlatformSettings, unique: str, model_name: str) -> DatasetSealedV1:
    return seal_examples(
        open_artifact_store(settings), ticket_examples(120), tenant=f"t-{unique}", name=f"feedback-{model_name}"
    )


def evaluator_app(settings: PlatformSettings, tiny_model: Path, model_name: str) -> TestClient:
    """The evaluator with the test's gate for `model_name`; the `with` block starts and stops it."""
    policy = ModelEvalPolicy(gate=GATE, canary_percent=25.0)
    app_settings = Settings(
        **{**settings.model_dump(), "base_model": str(tiny_model)},
        eval_policies={model_name: policy},
        eval_max_new_tokens=24,
    )
    return TestClient(create_app(app_settings))


@pytest.fixture
def evaluator(settings: PlatformSettings, tiny_model: Path, model_name: str) -> Iterator[TestClient]:
    with evaluator_app(settings, tiny_model, model_name) as client:
        yield client


def trained_adapter(
    artifacts: ArtifactStore, tiny_model: Path, sealed: DatasetSealedV1, work: Path, learning_rate: float = 0.003
) -> Path:
    rows = read_dataset_rows(artifacts.get_bytes(sealed.artifact))
    spec = RunSpec(
        job_id="ticket",
        base_model=tiny_model,
        train_rows=[row for row in rows if row["split"] == "train"],
        eval_rows=[],
        hyperparameters=LoraHyperparameters(max_steps=60, learning_rate=learning_rate, batch_size=8, dropout=0.0),
        work_dir=work,
        checkpoint_every_steps=1000,
    )
    return run_lora_training(spec).adapter_dir


@pytest.mark.timeout(300)
async def test_a_better_adapter_passes_and_starts_a_canary_once(
    evaluator: TestClient,
    settings: PlatformSettings,
    tiny_model: Path,
    sealed: DatasetSealedV1,
    model_name: str,
    unique: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    artifacts = open_artifact_store(settings)
    adapter = artifacts.put_folder(trained_adapter(artifacts, tiny_model, sealed, tmp_path))
    completed = succeeded_training(f"good-{unique}", model_name, sealed, adapter)
    with caplog.at_level(logging.INFO, logger="services.evaluator.service"):
        await publish_once(settings, completed, source="trainer")
        [record] = await read_keyed(settings.kafka_bootstrap, EVAL_COMPLETED.name, f"eval-{completed.job_id}", 1, 240)
        result = EvalCompletedV1.model_validate_json(record.value)
        assert result.gate_passed, result.gate_reasons
        assert result.examples == sealed.eval_rows
        assert result.adapter_version == completed.adapter_version
        assert result.baseline_adapter_version is None
        f1 = result.deltas["token_f1"]
        assert f1.low > 0
        assert result.metrics["token_f1"] > result.baseline_metrics["token_f1"]
        assert result.deltas["perplexity"].high < 0
        assert result.report is not None
        assert result.report_chart is not None
        assert artifacts.get_bytes(result.report_chart).startswith(b"\x89PNG")
        assert (
            f"# Evaluation {result.eval_id}" in artifacts.get_bytes(result.report).decode()
            or model_name in artifacts.get_bytes(result.report).decode()
        )

        [canary_record] = await read_keyed(settings.kafka_bootstrap, MODELS_LIFECYCLE.name, model_name, 1, 30)
        canary = ModelCanaryStartedV1.model_validate_json(canary_record.value)
        assert canary.candidate_adapter_version == completed.adapter_version
        assert canary.candidate_adapter == completed.adapter
        assert canary.stable_adapter_version is None
        assert canary.candidate_percent == 25.0
        assert (canary.owner_tenant, canary.shared) == (completed.tenant, False)

        # Redelivered: the same outcome is published again, and nothing is scored twice.
        await publish_once(settings, completed, source="trainer")
        records = await read_keyed(settings.kafka_bootstrap, EVAL_COMPLETED.name, result.eval_id, 2, 60)
        assert EvalCompletedV1.model_validate_json(records[1].value) == result
    assert [r.message for r in caplog.records].count("evaluated") == 1


@pytest.mark.parametrize("run", ["random weights", "learning rate 1.0"])
@pytest.mark.timeout(300)
async def test_a_bad_adapter_is_rejected_and_production_untouched(
    evaluator: TestClient,
    settings: PlatformSettings,
    tiny_model: Path,
    sealed: DatasetSealedV1,
    model_name: str,
    unique: str,
    tmp_path: Path,
    run: str,
) -> None:
    artifacts = open_artifact_store(settings)
    if run == "random weights":
        adapter = make_lora_adapter(tiny_model, tmp_path / "noise", seed=3)
    else:
        adapter = trained_adapter(artifacts, tiny_model, sealed, tmp_path, learning_rate=1.0)
    completed = succeeded_training(f"bad-{unique}", model_name, sealed, artifacts.put_folder(adapter))
    await publish_once(settings, completed, source="trainer")
    [record] = await read_keyed(settings.kafka_bootstrap, EVAL_COMPLETED.name, f"eval-{completed.job_id}", 1, 240)
    result = EvalCompletedV1.model_validate_json(record.value)
    assert not result.gate_passed
    assert any(reason.endswith(": fail") for reason in result.gate_reasons)
    assert await read_keyed(settings.kafka_bootstrap, MODELS_LIFECYCLE.name, model_name, 1, 3) == []


@pytest.mark.timeout(300)
async def test_another_tenants_model_is_neither_scored_against_nor_replaced(
    settings: PlatformSettings, tiny_model: Path, sealed: DatasetSealedV1, model_name: str, unique: str, tmp_path: Path
) -> None:
    artifacts = open_artifact_store(settings)
    theirs = ModelPromotedV1(
        model_name=model_name,
        base_model="tiny",
        adapter_version="theirs",
        adapter=artifacts.put_folder(make_lora_adapter(tiny_model, tmp_path / "theirs", seed=4)),
        owner_tenant=f"other-{unique}",
        changed_by="tests",
        changed_at=datetime.now(UTC),
    )
    await publish_once(settings, theirs, source="tests")
    candidate = artifacts.put_folder(make_lora_adapter(tiny_model, tmp_path / "ours", seed=3))
    completed = succeeded_training(f"takeover-{unique}", model_name, sealed, candidate)
    with evaluator_app(settings, tiny_model, model_name):  # started after the promotion: it has replayed it
        await publish_once(settings, completed, source="trainer")
        [record] = await read_keyed(settings.kafka_bootstrap, EVAL_COMPLETED.name, f"eval-{completed.job_id}", 1, 240)
    result = EvalCompletedV1.model_validate_json(record.value)
    assert not result.gate_passed
    assert f"model {model_name} belongs to another tenant" in result.gate_reasons
    assert result.baseline_adapter_version is None  # the bare base model, not the other tenant's adapter
    lifecycle = await read_keyed(settings.kafka_bootstrap, MODELS_LIFECYCLE.name, model_name, 2, 3)
    assert [ModelPromotedV1.model_validate_json(r.value) for r in lifecycle] == [theirs]  # and no canary of ours
