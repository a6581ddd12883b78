"""Latency: p95 latency and p95 time to first token over the last minutes, against objectives.

Read from the per-minute rollup's t-digest states, so the cost does not grow with traffic.
"""

from __future__ import annotations

from datetime import timedelta

from llmops_common.storage.telemetry import TelemetryStore

from ..detection_targets import ModelTarget
from ..detector_settings import LatencySettings
from ..measurements import Limit, Measurement, Query, Window

LATENCY_SQL = """
SELECT
    sum(requests) AS n,
    sum(ttft_requests) AS ttft_n,
    quantileTDigestMerge(0.95)(latency_ms) AS p95_latency_ms,
    quantileTDigestMerge(0.95)(time_to_first_token_ms) AS p95_ttft_ms
FROM inference_minute
WHERE model_name = {model:String} AND minute >= {start:DateTime} AND minute <= {end:DateTime}
"""


class LatencyDetector:
    """p95 latency and p95 time to first token against their objectives."""

    name = "latency"

    def __init__(self, settings: LatencySettings) -> None:
        self._settings = settings

    def measure(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        """One measurement per figure whose window holds enough requests."""
        settings = self._settings
        end = target.current.end
        # Whole minutes: the rollup's grain. The minute in progress counts from its start.
        start = (end - timedelta(seconds=settings.window_seconds)).replace(second=0, microsecond=0)
        window = Window(start, end)
        parameters = {"model": target.model_name, "start": start, "end": end.replace(microsecond=0)}
        row = store.query(LATENCY_SQL, parameters)[0]
        query = Query(LATENCY_SQL, parameters)
        measurements = []
        for metric, count, slo in (
            ("p95_latency_ms", int(row["n"] or 0), settings.p95_latency_ms),
            ("p95_ttft_ms", int(row["ttft_n"] or 0), settings.p95_ttft_ms),
        ):
            if count < settings.min_requests:
                continue
            value = float(row[metric])
            measurements.append(
                target.measurement(
                    self.name,
                    metric,
                    value,
                    query=query,
                    current=window,
                    limit=Limit(slo, slo * settings.clear_ratio, critical=slo * settings.critical_ratio),
                    message=f"{metric.removesuffix('_ms')} {value:.0f} ms against the {slo:g} ms objective",
                )
            )
        return measurements
