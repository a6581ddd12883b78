"""The monitor's HTTP routes (the read-only SQL endpoint lives in `sql_api`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from llmops_common.auth.http import AdminKey

from .metrics_queries import MetricsQueries
from .schemas import MetricsSummary
from .service import summarize
from .tenant_filter import TenantQuery, readable_tenant
from .time_window import parse_window

router = APIRouter(prefix="/v1", tags=["monitor"])


@router.get("/metrics/summary")
async def metrics_summary(
    request: Request,
    principal: AdminKey,
    model: Annotated[str, Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")],
    window: Annotated[str, Query(max_length=16)] = "1h",
    tenant: TenantQuery = None,
) -> MetricsSummary:
    """A deployed model's traffic, errors, tokens, cost, latency and feedback over the last `window`.

    A tenant admin's key reads its tenant's figures; an operator's reads every tenant's, or `tenant`'s.
    """
    duration = parse_window(window)
    queries = MetricsQueries(request.state.deps.telemetry, readable_tenant(principal, tenant))
    return await asyncio.to_thread(summarize, queries, model, window, duration, datetime.now(UTC))
