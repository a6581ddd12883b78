"""The queries behind `/v1/metrics/summary`, over the per-minute rollup and the feedback table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from llmops_common.storage.telemetry import TelemetryStore

_FIGURES = """
    sum(requests) AS requests,
    sum(errors) AS errors,
    sum(prompt_tokens) AS prompt_tokens,
    sum(completion_tokens) AS completion_tokens,
    sum(cost_usd) AS cost_usd,
    quantilesTDigestMerge(0.5, 0.95, 0.99)(latency_ms) AS latency,
    quantilesTDigestMerge(0.5, 0.95, 0.99)(time_to_first_token_ms) AS ttft
"""
_IN_WINDOW = (
    "model_name = {model:String} AND minute >= {start:DateTime} AND minute < {end:DateTime} "
    "AND (isNull({tenant:Nullable(String)}) OR tenant = {tenant:Nullable(String)})"
)

_TRAFFIC = f"SELECT {_FIGURES} FROM inference_minute WHERE {_IN_WINDOW}"  # noqa: S608 - constants only
_TRAFFIC_BY_ADAPTER = (
    f"SELECT adapter_version, {_FIGURES} FROM inference_minute WHERE {_IN_WINDOW} "  # noqa: S608 - constants only
    "GROUP BY adapter_version ORDER BY adapter_version"
)
_FEEDBACK = """
SELECT count() AS count, avg(score) AS mean_score, countIf(score = -1) AS thumbs_down
FROM feedback FINAL
WHERE model_name = {model:String} AND event_time >= {start:DateTime64(3)} AND event_time < {end:DateTime64(3)}
    AND (isNull({tenant:Nullable(String)}) OR tenant = {tenant:Nullable(String)})
"""


class MetricsQueries:
    """Reads summary figures of one tenant (None: of every tenant) from the telemetry store."""

    def __init__(self, store: TelemetryStore, tenant: str | None) -> None:
        self._store = store
        self.tenant = tenant

    def traffic(self, model: str, start: datetime, end: datetime) -> dict[str, Any]:
        """Requests, errors, tokens, cost and latency quantiles of the model, from the rollup."""
        return self._store.query(_TRAFFIC, self._bounds(model, start, end))[0]

    def traffic_by_adapter(self, model: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The same figures per adapter version."""
        return self._store.query(_TRAFFIC_BY_ADAPTER, self._bounds(model, start, end))

    def feedback(self, model: str, start: datetime, end: datetime) -> dict[str, Any]:
        """Count, mean score and thumbs-down count of the feedback on the model, duplicates folded."""
        return self._store.query(_FEEDBACK, self._bounds(model, start, end))[0]

    def _bounds(self, model: str, start: datetime, end: datetime) -> dict[str, object]:
        return {"model": model, "start": start, "end": end, "tenant": self.tenant}
