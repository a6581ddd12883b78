"""A spend burst raises the cost alert; its enforced budget blocks the tenant with 429 on a FastAPI app
that reads the budgets topic, and the window's reset unblocks it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from llmops_common.budgets.blocklist import BudgetBlocklist
from llmops_common.budgets.http import budget_guard
from llmops_common.budgets.replica import running_budget_blocklist
from llmops_common.service.http_errors import install_error_handlers
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.topics import BUDGETS
from services.monitor.detector_settings import Budget, CostSettings
from tests.integration.monitor.alerts.harness import HOUR, MonitorHarness, hour_start, monitor_settings
from tests.integration.monitor.conftest import topic_of
from tests.support.synthetic_traffic import STABLE, window_traffic
from tests.support.topic_reader import eventually, headers_of, read_topic

MODEL = "support-bot"


@dataclasses.dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclasses.dataclass(frozen=True)
class AppDeps:
    budgets: BudgetBlocklist


@pytest.fixture
async def blocklist(harness: MonitorHarness) -> AsyncIterator[BudgetBlocklist]:
    """The reading side, as the model server runs it: a replica of the test's budgets topic."""
    runtime = ServiceRuntime.create(monitor_settings(harness.settings))
    topic = dataclasses.replace(BUDGETS, name=harness.budgets_topic)
    async with running_budget_blocklist(runtime, topic=topic, replay_timeout=20) as blocklist:
        yield blocklist


def guarded_app(blocklist: BudgetBlocklist, clock: Clock) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    guard = budget_guard(tenant_of=lambda request: request.headers["x-tenant"], clock=clock)

    @app.middleware("http")
    async def attach_deps(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.deps = AppDeps(blocklist)
        return await call_next(request)

    @app.post("/v1/chat/completions", dependencies=[Depends(guard)])
    async def complete() -> dict[str, str]:
        return {"answer": "ok"}

    return app


async def test_a_spend_burst_alerts_blocks_the_tenant_and_the_window_reset_unblocks_it(
    harness: MonitorHarness, blocklist: BudgetBlocklist
) -> None:
    hour = hour_start(3)
    budget = Budget(tenant="acme", window="hour", limit_usd=1.0, enforce=True)
    alerting = harness.alerting(monitor_settings(harness.settings, cost=CostSettings(budgets=(budget,))))
    clock = Clock(hour + timedelta(minutes=30))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded_app(blocklist, clock)), base_url="http://t")

    # Steady spend, under the budget: nothing.
    steady = window_traffic(harness.rng, STABLE, hour, 100, model=MODEL, length=timedelta(minutes=30))
    await harness.send("inference_completed", steady)
    assert await alerting.run_once(clock.now) == []

    # A burst of expensive requests takes the hour's spend to $2.10.
    burst_shape = dataclasses.replace(STABLE, cost_per_request_usd=0.01)
    burst = window_traffic(harness.rng, burst_shape, clock.now, 200, model=MODEL, length=timedelta(minutes=10))
    await harness.send("inference_completed", burst)
    clock.now = hour + timedelta(minutes=45)
    fired = await alerting.run_once(clock.now)

    assert [(t.kind, t.measurement.alert_id, t.severity) for t in fired] == [
        ("fired", "cost.spend_hour/acme/*", "critical")
    ]
    alerts_topic = topic_of(harness.routes, "alerts")
    alert = json.loads((await read_topic(harness.settings.kafka_bootstrap, alerts_topic, 1))[0].value)
    assert alert["enforce"] is True
    assert alert["value"] == pytest.approx(2.1)
    exceeded = await read_topic(harness.settings.kafka_bootstrap, harness.budgets_topic, 1)
    assert headers_of(exceeded[0])["ce_type"] == "llmops.budget.exceeded.v1"
    assert json.loads(exceeded[0].value) | {"at": None} == {
        "budget_id": "acme/*/hour",
        "tenant": "acme",
        "model_name": None,
        "window": "hour",
        "window_start": hour.isoformat().replace("+00:00", "Z"),
        "window_end": (hour + HOUR).isoformat().replace("+00:00", "Z"),
        "at": None,
        "spend_usd": pytest.approx(2.1),
        "budget_usd": 1.0,
        "alert_id": "cost.spend_hour/acme/*",
    }

    await eventually(lambda: blocklist.blocked_tenants(clock.now) == {"acme"}, timeout=10)
    refused = await client.post("/v1/chat/completions", headers={"x-tenant": "acme"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(15 * 60)
    assert refused.json()["error"]["code"] == "too_many_requests"
    other = await client.post("/v1/chat/completions", headers={"x-tenant": "globex"})
    assert other.status_code == 200

    # The next hour starts with nothing spent: the alert resolves and the reset unblocks the tenant.
    clock.now = hour + HOUR + timedelta(minutes=5)
    resolved = await alerting.run_once(clock.now)

    assert [(t.kind, t.measurement.alert_id) for t in resolved] == [("resolved", "cost.spend_hour/acme/*")]
    records = await read_topic(harness.settings.kafka_bootstrap, harness.budgets_topic, 2)
    assert [headers_of(r)["ce_type"] for r in records] == ["llmops.budget.exceeded.v1", "llmops.budget.reset.v1"]
    await eventually(lambda: blocklist.blocking("acme", MODEL, hour + timedelta(minutes=50)) is None, timeout=10)
    allowed = await client.post("/v1/chat/completions", headers={"x-tenant": "acme"})
    assert allowed.status_code == 200
    await client.aclose()
