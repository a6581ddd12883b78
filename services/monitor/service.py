"""The monitor's domain logic behind its HTTP API (no FastAPI or FastStream here)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from .metrics_queries import MetricsQueries
from .schemas import AdapterSummary, FeedbackSummary, MetricsSummary, Quantiles


def _minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def summary_window(now: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """[start, end) in whole minutes, the rollup's grain; the minute now running is included."""
    end = _minute_floor(now) + timedelta(minutes=1)
    return end - window, end


def _quantiles(values: list[float | None] | None, requests: int) -> Quantiles:
    # An empty TDigest state reports NaN (JSON output may spell it null); say None, which JSON can carry.
    if not requests or not values or any(value is None or math.isnan(value) for value in values):
        return Quantiles(p50=None, p95=None, p99=None)
    return Quantiles(p50=values[0], p95=values[1], p99=values[2])


def _count(row: dict[str, Any], name: str) -> int:
    return int(row.get(name) or 0)


def summarize(
    queries: MetricsQueries, model: str, window_text: str, window: timedelta, now: datetime
) -> MetricsSummary:
    """The model's figures over the `window` before `now`."""
    start, end = summary_window(now, window)
    total = queries.traffic(model, start, end)
    requests, errors = _count(total, "requests"), _count(total, "errors")
    feedback = queries.feedback(model, start, end)
    feedback_count = _count(feedback, "count")
    return MetricsSummary(
        model=model,
        tenant=queries.tenant,
        window=window_text,
        start=start,
        end=end,
        requests=requests,
        errors=errors,
        error_rate=errors / requests if requests else None,
        prompt_tokens=_count(total, "prompt_tokens"),
        completion_tokens=_count(total, "completion_tokens"),
        cost_usd=float(total.get("cost_usd") or 0),
        latency_ms=_quantiles(total.get("latency"), requests),
        time_to_first_token_ms=_quantiles(total.get("ttft"), requests),
        by_adapter=[
            AdapterSummary(
                adapter_version=row["adapter_version"],
                requests=_count(row, "requests"),
                errors=_count(row, "errors"),
                cost_usd=float(row["cost_usd"]),
                latency_ms=_quantiles(row["latency"], _count(row, "requests")),
            )
            for row in queries.traffic_by_adapter(model, start, end)
        ],
        feedback=FeedbackSummary(
            count=feedback_count,
            mean_score=float(feedback["mean_score"]) if feedback_count else None,
            thumbs_down=_count(feedback, "thumbs_down"),
        ),
    )
