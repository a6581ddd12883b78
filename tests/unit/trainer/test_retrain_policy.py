"""Auto-retrain: enough new feedback or a matching alert asks for one job, and the cooldown makes one
incident give one job."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.events import AlertFiredV1, ArtifactRef, DatasetSealedV1
from llmops_common.events.alerts import AlertScope, TimeWindow
from services.trainer.retrain_policy import AutoRetrain
from services.trainer.settings import RetrainPolicy
from services.trainer.store import TrainerStore

MODEL = "support-assistant"
POLICY = RetrainPolicy(tenant="acme", min_new_examples=50, cooldown_seconds=600, hyperparameters={"max_steps": 10})
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def datasets(tmp_path: Path) -> DatasetVersionIndex:
    return DatasetVersionIndex(tmp_path / "datasets.sqlite")


@pytest.fixture
def retrain(tmp_path: Path, datasets: DatasetVersionIndex, clock: Clock) -> AutoRetrain:
    return AutoRetrain({MODEL: POLICY}, TrainerStore(tmp_path / "trainer.sqlite"), datasets, lambda: "tiny-base", clock)


def sealed(rows: int, version: str, tenant: str = "acme", name: str = f"feedback-{MODEL}") -> DatasetSealedV1:
    artifact = ArtifactRef(uri=f"file:///a/{version}", sha256=version * 64, size_bytes=10)
    return DatasetSealedV1(
        name=name, version=version * 64, tenant=tenant, artifact=artifact, rows=rows, train_rows=rows, eval_rows=0
    )


def alert(detector: str, model: str | None = MODEL, alert_id: str = "drift:acme:support") -> AlertFiredV1:
    window = TimeWindow(start=NOW, end=NOW)
    return AlertFiredV1(
        alert_id=alert_id,
        detector=detector,
        scope=AlertScope(tenant="acme", model_name=model),
        value=0.4,
        threshold=0.2,
        current_window=window,
        at=NOW,
        severity="warning",
        message="prompt lengths drifted",
    )


def test_enough_new_feedback_asks_for_a_job_on_that_version(retrain: AutoRetrain) -> None:
    version = sealed(60, "a")
    [request] = retrain.on_dataset_sealed(version)
    assert request.model_name == MODEL
    assert request.tenant == "acme"
    assert request.base_model == "tiny-base"
    assert (request.dataset, request.dataset_version, request.dataset_artifact) == (
        version.name,
        version.version,
        version.artifact,
    )
    assert request.hyperparameters == {"max_steps": 10}
    assert request.reason == f"feedback: 60 new examples in feedback-{MODEL}@{'a' * 12}"
    assert request.job_id.startswith(f"{MODEL}-feedback-")
    # The same version again (a redelivery) asks for the very same job.
    assert retrain.on_dataset_sealed(version) == [request]


def test_too_few_examples_other_tenants_and_other_datasets_ask_nothing(retrain: AutoRetrain) -> None:
    assert retrain.on_dataset_sealed(sealed(49, "a")) == []
    assert retrain.on_dataset_sealed(sealed(500, "b", tenant="other")) == []
    assert retrain.on_dataset_sealed(sealed(500, "c", name="support")) == []


def test_new_examples_count_from_the_last_job_and_the_cooldown_holds(retrain: AutoRetrain, clock: Clock) -> None:
    [first] = retrain.on_dataset_sealed(sealed(60, "a"))
    retrain.requested(first, 60)
    clock.now += 700
    assert retrain.on_dataset_sealed(sealed(100, "b")) == [], "only 40 new since the last job"
    [second] = retrain.on_dataset_sealed(sealed(120, "c"))
    retrain.requested(second, 120)
    clock.now += 10
    assert retrain.on_dataset_sealed(sealed(400, "d")) == [], "cooling down"


def test_an_alert_for_the_model_trains_on_its_latest_version(
    retrain: AutoRetrain, datasets: DatasetVersionIndex, clock: Clock
) -> None:
    assert retrain.on_alert(alert("drift")) is None, "no sealed version yet"
    datasets.add(sealed(30, "a"))
    request = retrain.on_alert(alert("drift"))
    assert request is not None
    assert request.dataset_version == "a" * 64
    assert request.reason == f"alert: drift on {MODEL} (prompt lengths drifted)"
    assert retrain.on_alert(alert("latency")) is None, "not a detector the policy retrains on"
    assert retrain.on_alert(alert("drift", model="other-model")) is None
    retrain.requested(request, 30)
    assert retrain.on_alert(alert("quality", alert_id="quality:acme:support")) is None, "one incident, one job"
    clock.now += 601
    assert retrain.on_alert(alert("quality", alert_id="quality:acme:support")) is not None
