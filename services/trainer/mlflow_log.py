"""Logs a finished fine-tune to MLflow, where `LLMOPS_MLFLOW_TRACKING_URI` names a tracking server.

MLflow is optional (the `mlflow` extra): the platform's own record is the `TrainingCompletedV1` event and
the artifact store. A tracking server that is down costs the MLflow run, never the job.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from llmops_common.events import TrainingRequestedV1

from .hyperparameters import LoraHyperparameters
from .lora_run import RunResult

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)


class MlflowLog:
    """Writes one MLflow run per job: parameters, the loss per step, final metrics, the card and the adapter."""

    def __init__(self, tracking_uri: str | None, experiment: str) -> None:
        self._tracking_uri = tracking_uri
        self._experiment = experiment

    @property
    def enabled(self) -> bool:
        """Whether runs are logged at all."""
        return self._tracking_uri is not None

    def log(
        self,
        request: TrainingRequestedV1,
        hyperparameters: LoraHyperparameters,
        result: RunResult,
        metrics: dict[str, float],
    ) -> str | None:
        """The MLflow run id, or None when MLflow is off or could not take the run."""
        if self._tracking_uri is None:
            return None
        try:
            return self._log(_client(self._tracking_uri), request, hyperparameters, result, metrics)
        except Exception as error:
            log.warning("MLflow run not logged: %r", error, extra={"job_id": request.job_id})
            return None

    def _log(
        self,
        client: MlflowClient,
        request: TrainingRequestedV1,
        hyperparameters: LoraHyperparameters,
        result: RunResult,
        metrics: dict[str, float],
    ) -> str:
        experiment = client.get_experiment_by_name(self._experiment)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(self._experiment)
        tags = {
            "llmops.job_id": request.job_id,
            "llmops.model_name": request.model_name,
            "llmops.tenant": request.tenant,
        }
        run_id: str = client.create_run(experiment_id, run_name=request.job_id, tags=tags).info.run_id
        params = {**hyperparameters.as_flat_dict(), "base_model": request.base_model}
        params["dataset"] = f"{request.dataset}@{request.dataset_version}"
        for name, value in params.items():
            client.log_param(run_id, name, value)
        for step, loss in result.loss_curve:
            client.log_metric(run_id, "loss", loss, step=step)
        for name, value in metrics.items():
            client.log_metric(run_id, name, value, step=result.steps)
        client.log_artifacts(run_id, str(result.adapter_dir), artifact_path="adapter")
        client.set_terminated(run_id)
        return run_id


MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
"""MLflow's own defaults retry a server that is down for minutes (7 retries, doubling from 2 s), and the
job's terminal event waits for the run: a mirror may cost seconds, not minutes. An operator's own values win."""


def _client(tracking_uri: str) -> MlflowClient:
    for name, value in MLFLOW_HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    # Imported here: MLflow is optional (the `mlflow` extra).
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)
