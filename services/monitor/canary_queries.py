"""The queries a canary check runs: each arm's requests, errors, p95s and thumbs, from the raw tables.

Raw rows rather than the per-minute rollup, which has no canary arm; a check's window is at most
`canary_window_seconds` of one model, so the read stays small. An arm is its `canary_arm` together with
the adapter version the canary event names for it, so that traffic of an earlier canary of the model
still in flight is not counted. The same SQL runs on chdb and on a ClickHouse server.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from llmops_common.storage.telemetry import TelemetryStore

from .canary_analysis import NO_TRAFFIC, ArmStats
from .canary_board import Canary

_ARM_REQUESTS = """
    model_name = {model:String}
    AND event_time >= {start:DateTime64(3)} AND event_time < {end:DateTime64(3)}
    AND ((canary_arm = 'stable' AND adapter_version = {stable:String})
        OR (canary_arm = 'candidate' AND adapter_version = {candidate:String}))
"""

# Status is 'ok' or 'error' (a refusal by the server, a failed generation, a client gone mid-stream).
# Latency counts every request; time to first token only those that have one (successful ones).
TRAFFIC_SQL = f"""
SELECT
    canary_arm AS arm,
    count() AS requests,
    countIf(status != 'ok') AS errors,
    quantile(0.95)(latency_ms) AS p95_latency_ms,
    quantile(0.95)(time_to_first_token_ms) AS p95_ttft_ms
FROM inference_completed
WHERE {_ARM_REQUESTS}
GROUP BY arm
"""  # noqa: S608 - constants only; values are bound parameters

# Thumbs on the arm's requests, joined by (tenant, request_id). A row stored before `score_kind` existed
# ('') counts as thumbs when its score is -1 or 1.
FEEDBACK_SQL = f"""
SELECT
    served.arm AS arm,
    count() AS feedback,
    countIf(votes.score = -1) AS thumbs_down
FROM (
    SELECT tenant, request_id, score FROM feedback
    WHERE event_time >= {{start:DateTime64(3)}}
        AND (score_kind = 'thumbs' OR (score_kind = '' AND score IN (-1, 1)))
) AS votes
INNER JOIN (
    SELECT DISTINCT tenant, request_id, canary_arm AS arm FROM inference_completed
    WHERE {_ARM_REQUESTS}
) AS served ON votes.tenant = served.tenant AND votes.request_id = served.request_id
GROUP BY arm
"""  # noqa: S608 - constants only; values are bound parameters


def arm_parameters(canary: Canary, start: datetime, end: datetime) -> dict[str, object]:
    """The bound parameters of both queries for `canary` over [start, end)."""
    return {
        "model": canary.model_name,
        "start": start,
        "end": end,
        "stable": canary.stable_version,
        "candidate": canary.event.candidate_adapter_version,
    }


def read_arms(store: TelemetryStore, canary: Canary, start: datetime, end: datetime) -> tuple[ArmStats, ArmStats]:
    """The stable and the candidate arm's figures over [start, end). Blocking: run it in a worker thread."""
    parameters = arm_parameters(canary, start, end)
    traffic = {row["arm"]: row for row in store.query(TRAFFIC_SQL, parameters)}
    votes = {row["arm"]: row for row in store.query(FEEDBACK_SQL, parameters)}
    stable, candidate = (_arm(traffic.get(arm), votes.get(arm)) for arm in ("stable", "candidate"))
    return stable, candidate


def _arm(traffic: dict[str, Any] | None, votes: dict[str, Any] | None) -> ArmStats:
    if traffic is None:
        return NO_TRAFFIC
    return ArmStats(
        requests=int(traffic["requests"]),
        errors=int(traffic["errors"]),
        p95_latency_ms=_number(traffic["p95_latency_ms"]),
        p95_ttft_ms=_number(traffic["p95_ttft_ms"]),
        feedback=int(votes["feedback"]) if votes else 0,
        thumbs_down=int(votes["thumbs_down"]) if votes else 0,
    )


def _number(value: Any) -> float | None:
    # A quantile over no values is NULL (a Nullable column) or NaN, which JSON may carry as null.
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number
