"""Auto-retrain: a deployed model is fine-tuned again when its feedback grows or the monitor sees it slip.

Job ids are derived from what triggered them (the dataset version, the alert), so a redelivered trigger
asks for the same job again, which the trainer runs once. A cooldown per model turns one incident (an
alert that fires on several detectors, a burst of seals) into one job.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.events import AlertFiredV1, DatasetSealedV1, TrainingRequestedV1

from .settings import RetrainPolicy
from .store import RetrainMark, TrainerStore

log = logging.getLogger(__name__)


class AutoRetrain:
    """Turns sealed feedback datasets and alerts into training requests, per the policies in settings."""

    def __init__(
        self,
        policies: Mapping[str, RetrainPolicy],
        store: TrainerStore,
        datasets: DatasetVersionIndex,
        base_model_name: Callable[[], str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._policies = dict(policies)
        self._store = store
        self._datasets = datasets
        self._base_model_name = base_model_name
        self._clock = clock

    def on_dataset_sealed(self, sealed: DatasetSealedV1) -> list[TrainingRequestedV1]:
        """The jobs a new dataset version asks for: models whose watched dataset grew by enough examples."""
        requests = []
        for model_name, policy in self._policies.items():
            if policy.tenant != sealed.tenant or policy.dataset_for(model_name) != sealed.name:
                continue
            mark = self._store.retrain_mark(model_name)
            new_examples = sealed.rows - (mark.dataset_rows if mark else 0)
            if new_examples < policy.min_new_examples or self._cooling_down(policy, mark):
                continue
            job_id = _job_id(model_name, "feedback", sealed.version)
            reason = f"feedback: {new_examples} new examples in {sealed.name}@{sealed.version[:12]}"
            requests.append(self._request(model_name, policy, sealed, job_id, reason))
        return requests

    def on_alert(self, alert: AlertFiredV1) -> TrainingRequestedV1 | None:
        """The job an alert asks for, on the latest version of the model's dataset; None when it asks none."""
        model_name = alert.scope.model_name
        policy = self._policies.get(model_name or "")
        if model_name is None or policy is None or alert.detector not in policy.alert_detectors:
            return None
        if alert.scope.tenant not in (None, policy.tenant):
            return None
        if self._cooling_down(policy, self._store.retrain_mark(model_name)):
            return None
        sealed = self._datasets.find(policy.tenant, policy.dataset_for(model_name), "latest")
        if sealed is None:
            log.warning("alert for %s, but no sealed version of its dataset to train on", model_name)
            return None
        job_id = _job_id(model_name, "alert", f"{alert.alert_id}\x00{alert.at.isoformat()}")
        reason = f"alert: {alert.detector} on {model_name} ({alert.message})"
        return self._request(model_name, policy, sealed, job_id, reason)

    def requested(self, request: TrainingRequestedV1, dataset_rows: int) -> None:
        """Remembers a job the policy asked for, once it is published: the cooldown starts."""
        self._store.mark_retrain(request.model_name, RetrainMark(self._clock(), dataset_rows))

    def _cooling_down(self, policy: RetrainPolicy, mark: RetrainMark | None) -> bool:
        return mark is not None and self._clock() - mark.requested_at < policy.cooldown_seconds

    def _request(
        self, model_name: str, policy: RetrainPolicy, sealed: DatasetSealedV1, job_id: str, reason: str
    ) -> TrainingRequestedV1:
        return TrainingRequestedV1(
            job_id=job_id,
            tenant=policy.tenant,
            model_name=model_name,
            base_model=policy.base_model or self._base_model_name(),
            dataset=sealed.name,
            dataset_version=sealed.version,
            dataset_artifact=sealed.artifact,
            hyperparameters=policy.hyperparameters,
            reason=reason,
            requested_by="trainer:auto-retrain",
        )


def _job_id(model_name: str, trigger: str, trigger_id: str) -> str:
    digest = hashlib.sha256(trigger_id.encode()).hexdigest()[:12]
    return f"{model_name[:96]}-{trigger}-{digest}"
