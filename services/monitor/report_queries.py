"""The queries behind `GET /v1/report`: a model's figures in about 48 buckets over a window."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from llmops_common.storage.telemetry import TelemetryStore

from .alert_schemas import ModelReport, ReportBucket

BUCKETS = 48

_TRAFFIC = """
SELECT toStartOfInterval(minute, toIntervalSecond({bucket:UInt32})) AS start,
    sum(requests) AS requests, sum(errors) AS errors, sum(cost_usd) AS cost_usd,
    quantilesTDigestMerge(0.5, 0.95)(latency_ms) AS latency, quantileTDigestMerge(0.95)(time_to_first_token_ms) AS ttft,
    sum(ttft_requests) AS ttft_requests
FROM inference_minute
WHERE model_name = {model:String} AND minute >= {start:DateTime} AND minute <= {end:DateTime}
    AND (isNull({tenant:Nullable(String)}) OR tenant = {tenant:Nullable(String)})
GROUP BY start
"""

_FEEDBACK = """
SELECT toStartOfInterval(event_time, toIntervalSecond({bucket:UInt32})) AS start,
    count() AS n, countIf(score = -1) AS negative, avg(score) AS mean
FROM feedback
WHERE model_name = {model:String} AND event_time >= {start:DateTime} AND event_time <= {end:DateTime}
    AND (isNull({tenant:Nullable(String)}) OR tenant = {tenant:Nullable(String)})
GROUP BY start
"""

_DRIFT = """
SELECT toStartOfInterval(measured_at, toIntervalSecond({bucket:UInt32})) AS start, metric, max(value) AS value
FROM detector_measurements
WHERE model_name = {model:String} AND measured_at >= {start:DateTime} AND measured_at <= {end:DateTime}
    AND (isNull({tenant:Nullable(String)}) OR tenant = {tenant:Nullable(String)})
    AND metric IN ('psi_prompt_tokens', 'psi_completion_tokens', 'centroid_cosine')
GROUP BY start, metric
"""


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def model_report(
    store: TelemetryStore, model: str, tenant: str | None, since: str, duration: timedelta, now: datetime
) -> ModelReport:
    """The report's buckets from `tenant`'s rows (None: every tenant's); its alerts are added by the caller.

    The drift scores are the detectors' measurements of the whole model, across tenants: a tenant's
    report leaves them out.
    """
    bucket = max(60, int(duration.total_seconds() // BUCKETS) // 60 * 60)
    end = now.replace(microsecond=0)
    start = (end - duration).replace(second=0)
    parameters: dict[str, object] = {"model": model, "start": start, "end": end, "bucket": bucket, "tenant": tenant}
    rows: dict[datetime, dict[str, Any]] = defaultdict(dict)
    for row in store.query(_TRAFFIC, parameters):
        rows[_time(row["start"])].update(row)
    for row in store.query(_FEEDBACK, parameters):
        rows[_time(row["start"])].update(feedback=row["n"], negative=row["negative"], mean=row["mean"])
    for row in store.query(_DRIFT, parameters):
        rows[_time(row["start"])][row["metric"]] = row["value"]
    return ModelReport(
        model=model,
        since=since,
        start=start,
        end=end,
        bucket_seconds=bucket,
        buckets=[_bucket(moment, rows[moment]) for moment in sorted(rows)],
        alerts=[],
    )


def _bucket(start: datetime, row: dict[str, Any]) -> ReportBucket:
    requests = int(row.get("requests") or 0)
    latency = row.get("latency") or [None, None]
    return ReportBucket(
        start=start,
        requests=requests,
        errors=int(row.get("errors") or 0),
        cost_usd=float(row.get("cost_usd") or 0.0),
        p50_latency_ms=latency[0] if requests else None,
        p95_latency_ms=latency[1] if requests else None,
        p95_ttft_ms=row.get("ttft") if int(row.get("ttft_requests") or 0) else None,
        feedback=int(row.get("feedback") or 0),
        negative_feedback=int(row.get("negative") or 0),
        mean_feedback_score=row.get("mean"),
        psi_prompt_tokens=row.get("psi_prompt_tokens"),
        psi_completion_tokens=row.get("psi_completion_tokens"),
        embedding_centroid_cosine=row.get("centroid_cosine"),
    )
