"""Input and output drift: PSI and KS of prompt tokens, completion tokens and output length (characters).

ClickHouse returns each window as distinct values with counts; the statistics are exact on those.
Successful requests only: an error burst is the error-rate detector's to report, not a drift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from llmops_common.storage.telemetry import TelemetryStore

from ..detection_targets import ModelTarget
from ..detector_settings import DriftSettings
from ..measurements import Limit, Measurement, Query, Window
from ..statistics.distribution_drift import kolmogorov_smirnov, population_stability_index
from ..statistics.value_counts import ValueCounts
from .window_cache import WindowCache

DRIFT_COUNTS_SQL = """
SELECT pair.1 AS metric, pair.2 AS value, count() AS n
FROM inference_completed
ARRAY JOIN [
    ('prompt_tokens', toFloat64(prompt_tokens)),
    ('completion_tokens', toFloat64(completion_tokens)),
    ('output_chars', if(isNull(completion_text), nan, toFloat64(lengthUTF8(assumeNotNull(completion_text)))))
] AS pair
WHERE model_name = {model:String} AND status = 'ok'
    AND event_time >= {start:DateTime64(3)} AND event_time < {end:DateTime64(3)}
    AND NOT isNaN(pair.2)
GROUP BY metric, value
"""
METRICS = ("prompt_tokens", "completion_tokens", "output_chars")

WindowCounts = dict[str, ValueCounts]


def window_counts(store: TelemetryStore, model: str, window: Window) -> WindowCounts:
    """Each metric's value counts in `window`."""
    pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in store.query(DRIFT_COUNTS_SQL, _parameters(model, window.start, window.end)):
        pairs[row["metric"]].append((float(row["value"]), float(row["n"])))
    return {metric: ValueCounts.from_pairs(values) for metric, values in pairs.items()}


def _parameters(model: str, start: datetime, end: datetime) -> dict[str, object]:
    return {"model": model, "start": start, "end": end}


class DriftDetector:
    """PSI and KS per metric, current window against reference window."""

    name = "drift"

    def __init__(
        self,
        settings: DriftSettings,
        counts: Callable[[TelemetryStore, str, Window], WindowCounts] = window_counts,
    ) -> None:
        self._settings = settings
        self._counts = counts
        self._references: WindowCache[WindowCounts] = WindowCache()

    def measure(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        """Two measurements per metric with enough samples on both sides: PSI, and KS gated by its p-value."""
        reference_window = target.reference
        if reference_window is None:
            return []
        reference = self._references.get_or_compute(
            (target.model_name, reference_window), lambda: self._counts(store, target.model_name, reference_window)
        )
        current = self._counts(store, target.model_name, target.current)
        measurements: list[Measurement] = []
        for metric in METRICS:
            ref, cur = reference.get(metric), current.get(metric)
            if ref is None or cur is None or min(ref.total, cur.total) < self._settings.min_samples:
                continue
            measurements += self._compare(target, metric, ref, cur)
        return measurements

    def _compare(self, target: ModelTarget, metric: str, ref: ValueCounts, cur: ValueCounts) -> list[Measurement]:
        settings = self._settings
        psi = population_stability_index(ref, cur, settings.bins)
        ks = kolmogorov_smirnov(ref, cur)
        query = Query(DRIFT_COUNTS_SQL, _parameters(target.model_name, target.current.start, target.current.end))
        return [
            target.measurement(
                self.name,
                f"psi_{metric}",
                psi,
                query=query,
                reference=target.reference,
                limit=Limit(settings.psi, settings.psi_clear, critical=2 * settings.psi),
                message=f"{metric} PSI {psi:.3f} against the reference window (threshold {settings.psi:g})",
            ),
            target.measurement(
                self.name,
                f"ks_{metric}",
                ks.statistic,
                query=query,
                reference=target.reference,
                limit=Limit(settings.ks_statistic, settings.ks_clear),
                significant=ks.p_value < settings.ks_p_value,
                message=f"{metric} KS statistic {ks.statistic:.3f} (p={ks.p_value:.2g}) against the reference window",
            ),
        ]
