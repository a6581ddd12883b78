"""One detector run: every detector over every deployed model (and the cost detector over the fleet) at
one moment, each figure also written to `detector_measurements` for the dashboards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Protocol

from llmops_common.storage.errors import TelemetryQueryError
from llmops_common.storage.telemetry import TelemetryStore

from .detection_targets import ModelTarget, model_targets
from .detector_settings import DetectionSettings
from .detectors.cost import CostDetector
from .measurements import Measurement

log = logging.getLogger(__name__)


class ModelDetector(Protocol):
    """A detector that judges one deployed model at a time."""

    name: str

    def measure(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        """What it measured of `target` (nothing when a window lacks data)."""
        ...


def measurement_row(measurement: Measurement, now: datetime) -> dict[str, object]:
    """A `detector_measurements` row."""
    scope, reference = measurement.scope, measurement.reference
    return {
        "measured_at": now,
        "detector": measurement.detector,
        "metric": measurement.metric,
        "tenant": scope.tenant or "",
        "model_name": scope.model_name or "",
        "adapter_version": scope.adapter_version or "",
        "value": measurement.value,
        "threshold": measurement.limit.threshold if measurement.limit else None,
        "breached": measurement.breached,
        "current_start": measurement.current.start,
        "current_end": measurement.current.end,
        "reference_start": reference.start if reference else None,
        "reference_end": reference.end if reference else None,
    }


class DetectionRun:
    """Runs the detectors against the store. Blocking: the async side calls it in a worker thread."""

    def __init__(
        self,
        store: TelemetryStore,
        settings: DetectionSettings,
        model_detectors: list[ModelDetector],
        cost: CostDetector | None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._model_detectors = model_detectors
        self._cost = cost

    def measure(self, now: datetime) -> list[Measurement]:
        """Every measurement at `now`. A detector whose query fails is logged and skipped for this run."""
        measurements: list[Measurement] = []
        for target in model_targets(self._store, now, self._settings):
            for detector in self._model_detectors:
                measurements += self._guarded(detector.name, partial(detector.measure, self._store, target))
        if self._cost is not None:
            cost = self._cost
            measurements += self._guarded(cost.name, lambda: cost.measure(self._store, now))
        if measurements:
            self._store.insert_rows("detector_measurements", [measurement_row(m, now) for m in measurements])
        return measurements

    @staticmethod
    def _guarded(name: str, measure: Callable[[], list[Measurement]]) -> list[Measurement]:
        try:
            return measure()
        except TelemetryQueryError as error:
            log.warning("detector %s failed: %s", name, error.message)
            return []
