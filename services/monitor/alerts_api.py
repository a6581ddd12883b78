"""`GET /v1/alerts` and `GET /v1/report`: alerts and a model's report data, from the telemetry store.

Both take an admin key and read its tenant's alerts and rows only; an operator's key reads every tenant's
(or one tenant's, with `tenant`). A model-wide alert (no tenant: drift, latency, quality) is measured over
every tenant's traffic, so only operators see it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from llmops_common.auth.http import AdminKey

from .alert_history import latest_alert_states
from .alert_schemas import AlertList, AlertView, ModelReport
from .report_queries import model_report
from .tenant_filter import TenantQuery, readable_tenant
from .time_window import parse_window

router = APIRouter(prefix="/v1", tags=["alerts"])

ModelName = Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


def alert_view(row: dict[str, object]) -> AlertView:
    """An `alerts` history row as the API shows it ('' scope columns become None, times get their zone)."""
    times = ("current_start", "current_end", "first_fired_at", "fired_at", "resolved_at", "updated_at")
    values = dict(row)
    for name in times:
        text = str(values[name])
        values[name] = None if text.startswith("1970-01-01") else datetime.fromisoformat(text).replace(tzinfo=UTC)
    for name in ("tenant", "model_name", "adapter_version"):
        values[name] = values[name] or None
    return AlertView.model_validate(values)


@router.get("/alerts")
async def list_alerts(
    request: Request,
    principal: AdminKey,
    state: Literal["open", "resolved", "all"] = "open",
    since: Annotated[str, Query(max_length=16)] = "7d",
    model: ModelName | None = None,
    detector: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    tenant: TenantQuery = None,
) -> AlertList:
    """Alerts changed in the last `since`: open ones by default, or resolved ones, or all."""
    start = datetime.now(UTC) - parse_window(since)
    return await _alerts(request, readable_tenant(principal, tenant), state, start, model, detector, limit)


@router.get("/report")
async def report(
    request: Request,
    principal: AdminKey,
    model: ModelName,
    since: Annotated[str, Query(max_length=16)] = "24h",
    tenant: TenantQuery = None,
) -> ModelReport:
    """A model's traffic, latency, cost, drift and feedback in buckets over the last `since`, and its alerts."""
    duration = parse_window(since)
    now = datetime.now(UTC)
    scope = readable_tenant(principal, tenant)
    result = await asyncio.to_thread(model_report, request.state.deps.telemetry, model, scope, since, duration, now)
    alerts = await _alerts(request, scope, "all", now - duration, model, None, 100)
    return result.model_copy(update={"alerts": alerts.alerts})


async def _alerts(
    request: Request,
    tenant: str | None,
    state: Literal["open", "resolved", "all"],
    start: datetime,
    model: str | None,
    detector: str | None,
    limit: int,
) -> AlertList:
    """The alerts of `tenant` (None: of every tenant and none) that match, newest change first."""
    rows = await asyncio.to_thread(latest_alert_states, request.state.deps.telemetry, start)
    views = [alert_view(row) for row in rows]
    wanted = {"open": {"fired"}, "resolved": {"resolved"}, "all": {"fired", "resolved"}}[state]
    views = [
        view
        for view in views
        if view.state in wanted
        and (model is None or view.model_name == model)
        and (detector is None or view.detector == detector)
        and (tenant is None or view.tenant == tenant)
    ]
    return AlertList(alerts=views[:limit])
