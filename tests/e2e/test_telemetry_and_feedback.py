"""Telemetry, alerts and feedback through real processes (`llmops up`), on one platform shared by the tests:
every request becomes exactly one telemetry row, a shift in traffic raises a drift alert, a spend past an
enforced budget raises a cost alert and then a 429, and a correction becomes a dataset example and a
sealed version.

The monitor runs its detectors every 2 s over a 60 s window (the shortest allowed) with a drift sample of
10, so the alerts come in seconds rather than an hour. The drift reference starts at the model's
deployment: the baseline requests sent at setup fall into it once they are a window old, which is why
the drift test comes last and the other tests run in the meantime.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from llmops_common.auth.api_keys import issue_key
from llmops_common.events import Event, ModelPromotedV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from tests.support.platform_run import RunningPlatform, platform_env, running_platform, wait_all_ready

MODEL = "support-assistant"
BUDGETED = "budgeted-assistant"
BASE_MODEL_NAME = "tiny-base"
BASELINE_REQUESTS = 20
SHORT_QUESTIONS = ("Where is order 17?", "Reset my password.", "Is the shop open?", "Refund ticket 42?")
LONG_QUESTION = " ".join(["My parcel for order 5150 from Atlas arrived damaged and the box was open."] * 4)


def telemetry_settings() -> dict[str, str]:
    """Fast detectors, a drift sample of 10, no embedding drift, and a $1 monthly budget on BUDGETED that
    one request spends (enforced), with its price on the model server."""
    budget = {"tenant": "dev", "model_name": BUDGETED, "window": "month", "limit_usd": 1, "enforce": True}
    return {
        "base_model_name": BASE_MODEL_NAME,
        "detection": json.dumps({"interval_seconds": 2, "current_window_seconds": 60}),
        "drift": json.dumps({"min_samples": 10}),
        "embedding_drift": json.dumps({"enabled": False}),
        "cost": json.dumps({"budgets": [budget]}),
        "prices": json.dumps({BUDGETED: {"input_per_1k": 100.0, "output_per_1k": 100.0}}),
    }


@dataclass(frozen=True)
class Served:
    """The running platform, its keys, and the baseline requests sent to MODEL at setup."""

    platform: RunningPlatform
    token: str
    """The development key: admin of the tenant `dev`."""
    operator_token: str
    """An operator's key: model-wide alerts (drift) have no tenant, so only operators see them."""
    baseline_request_ids: list[str]

    def openai(self) -> OpenAI:
        """An openai client on the model server with the development key."""
        return OpenAI(base_url=f"{self.platform.url('model_server')}/v1", api_key=self.token, max_retries=0)

    def http(self, service: str, token: str | None = None) -> httpx.Client:
        """An HTTP client on `service` with a key (the development key by default)."""
        return httpx.Client(
            base_url=self.platform.url(service), headers={"Authorization": f"Bearer {token or self.token}"}, timeout=30
        )


@pytest.fixture(scope="module")
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tiny_model: Path
) -> Iterator[Served]:
    """`llmops up` with MODEL and BUDGETED deployed, an operator's key, and BASELINE_REQUESTS short
    questions answered by MODEL: the traffic its drift is measured against. The baseline goes out as soon
    as the model server is ready, since the drift test waits for it to be a window old."""
    root = tmp_path_factory.mktemp("telemetry")
    env = platform_env(root / "data", tiny_model, **telemetry_settings())
    with running_platform(env, root / "up.log") as platform:
        _until(lambda: _is_ready(platform.url("model_server")), 180)
        settings = PlatformSettings(kafka_bootstrap=platform.kafka_bootstrap)
        operator_token, operator_key = issue_key("platform-ops", roles=["operator"], issued_by="tests")
        asyncio.run(_publish_all(settings, [operator_key, _deployed(MODEL), _deployed(BUDGETED)]))
        served = Served(platform, platform.dev_token(), operator_token, [])
        with served.http("model_server") as client:
            _until(lambda: {MODEL, BUDGETED} <= {m["id"] for m in client.get("/v1/models").json()["data"]}, 60)
        with served.openai() as openai:
            served.baseline_request_ids.extend(
                _ask(openai, MODEL, SHORT_QUESTIONS[index % len(SHORT_QUESTIONS)], max_tokens=4)
                for index in range(BASELINE_REQUESTS)
            )
        wait_all_ready(env, platform.kafka_port, timeout=180)
        failed_before = request.session.testsfailed
        yield served
        if request.session.testsfailed > failed_before:
            _print_log_tails(root / "data" / "logs")


@pytest.mark.timeout(300)
def test_each_request_becomes_exactly_one_telemetry_row(served: Served) -> None:
    ids = served.baseline_request_ids
    assert len(set(ids)) == BASELINE_REQUESTS
    query = (
        "SELECT request_id, model_name, status, toUInt32(count()) AS n FROM inference_completed "
        "WHERE request_id IN {ids:Array(String)} GROUP BY request_id, model_name, status ORDER BY request_id"
    )
    with served.http("monitor") as monitor:

        def rows() -> list[dict[str, object]]:
            params = {"default_format": "JSONEachRow", "param_ids": _clickhouse_array(ids)}
            response = monitor.post("/", content=query.encode(), params=params)
            assert response.status_code == 200, response.text
            return [json.loads(line) for line in response.text.splitlines()]

        _until(lambda: len(rows()) == BASELINE_REQUESTS, 60)
        # Later sink flushes must not add a second row for any of them.
        time.sleep(3)
        assert rows() == [
            {"request_id": request_id, "model_name": MODEL, "status": "ok", "n": 1} for request_id in sorted(ids)
        ]


@pytest.mark.timeout(300)
def test_a_correction_becomes_a_dataset_example_and_a_sealed_version(served: Served) -> None:
    dataset = f"feedback-{MODEL}"
    correction = "Order 17 left the warehouse on Monday; it arrives by Thursday."
    with served.openai() as openai:
        request_id = _ask(openai, MODEL, "Where is order 17?", max_tokens=8)
    with served.http("feedback_collector") as collector:
        feedback = {"request_id": request_id, "score_kind": "thumbs", "score": -1, "correction": correction}
        accepted = collector.post("/v1/feedback", json=feedback)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["request_id"] == request_id
    assert accepted.json()["correction_outcome"] == "example_published"

    with served.http("ingestion") as ingestion:

        def examples() -> int:
            response = ingestion.get(f"/v1/datasets/{dataset}")
            return int(response.json()["examples"]) if response.status_code == 200 else 0

        _until(lambda: examples() == 1, 60)
        current = ingestion.get(f"/v1/datasets/{dataset}").json()
        assert (current["examples_since_seal"], current["versions"]) == (1, 0)

        sealed = ingestion.post(f"/v1/datasets/{dataset}/seal")
        assert sealed.status_code == 201, sealed.text
        assert sealed.json()["created"] is True
        version = sealed.json()["sealed"]
        assert (version["name"], version["rows"], version["trigger"]) == (dataset, 1, "command")

        versions = ingestion.get(f"/v1/datasets/{dataset}/versions")
        assert versions.status_code == 200, versions.text
        assert [(v["version"], v["rows"], v["trigger"]) for v in versions.json()] == [
            (version["version"], 1, "command")
        ]


@pytest.mark.timeout(300)
def test_spend_past_an_enforced_budget_alerts_then_answers_429(served: Served) -> None:
    with served.openai() as openai:
        _ask(openai, BUDGETED, "Where is order 17?", max_tokens=4)  # about 20 tokens at $100 per 1k: over $1
    with served.http("monitor") as monitor:

        def cost_alerts() -> list[dict[str, object]]:
            response = monitor.get("/v1/alerts", params={"detector": "cost", "model": BUDGETED})
            assert response.status_code == 200, response.text
            alerts: list[dict[str, object]] = response.json()["alerts"]
            return alerts

        _until(lambda: bool(cost_alerts()), 90)
        [alert] = cost_alerts()
    assert (alert["state"], alert["tenant"], alert["severity"], alert["enforce"]) == ("fired", "dev", "critical", True)
    assert alert["alert_id"] == f"cost.spend_month/dev/{BUDGETED}"
    assert float(str(alert["value"])) > 1.0

    body = {"model": BUDGETED, "messages": [{"role": "user", "content": "Where is order 17?"}], "max_tokens": 4}
    with served.http("model_server") as server:
        _until(lambda: server.post("/v1/chat/completions", json=body).status_code == 429, 60)
        refused = server.post("/v1/chat/completions", json=body)
        allowed = server.post("/v1/chat/completions", json={**body, "model": MODEL})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    error = refused.json()["error"]
    assert error["code"] == "tenant_blocked"
    assert f"the budget dev/{BUDGETED}/month is spent until" in error["message"]
    assert allowed.status_code == 200, "a budget of one model leaves the tenant's other models open"


@pytest.mark.timeout(300)
def test_a_traffic_shift_raises_a_drift_alert(served: Served) -> None:
    shifted_at = datetime.now(UTC)
    with served.openai() as openai:
        for _ in range(BASELINE_REQUESTS):
            _ask(openai, MODEL, LONG_QUESTION, max_tokens=24)
    ks_prompt_tokens = f"drift.ks_prompt_tokens/*/{MODEL}"
    with served.http("monitor", served.operator_token) as monitor:

        def drift_alerts() -> dict[str, dict[str, object]]:
            response = monitor.get("/v1/alerts", params={"detector": "drift", "model": MODEL})
            assert response.status_code == 200, response.text
            return {str(alert["alert_id"]): alert for alert in response.json()["alerts"]}

        # The baseline must first be a whole current window (60 s) old to count as the reference.
        _until(lambda: ks_prompt_tokens in drift_alerts(), 150)
        alert = drift_alerts()[ks_prompt_tokens]
    assert (alert["state"], alert["tenant"], alert["model_name"]) == ("fired", None, MODEL)
    assert float(str(alert["value"])) >= float(str(alert["threshold"]))
    assert datetime.fromisoformat(str(alert["fired_at"])) >= shifted_at, "fired by the shift, not before it"
    assert "prompt_tokens KS statistic" in str(alert["message"])
    with served.http("monitor") as tenant_admin:
        hidden = tenant_admin.get("/v1/alerts", params={"detector": "drift", "model": MODEL})
    assert hidden.json() == {"alerts": []}, "a model-wide alert is for operators only"


async def _publish_all(settings: PlatformSettings, events: list[Event]) -> None:
    for event in events:
        await publish_once(settings, event, source="tests")


def _deployed(model: str) -> ModelPromotedV1:
    return ModelPromotedV1(
        model_name=model, changed_by="tests", changed_at=datetime.now(UTC), base_model=BASE_MODEL_NAME
    )


def _ask(openai: OpenAI, model: str, question: str, max_tokens: int) -> str:
    """Asks `model` one question; returns the request id the server gave it."""
    raw = openai.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=max_tokens, temperature=0
    )
    raw.parse()
    return raw.headers["x-request-id"]


def _clickhouse_array(values: list[str]) -> str:
    return "[" + ",".join("'" + value + "'" for value in values) + "]"


def _is_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _until(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"condition not met within {timeout:g}s"
        time.sleep(interval)


def _print_log_tails(logs: Path, lines: int = 15) -> None:
    for log in sorted(logs.glob("*.log")):
        print(f"--- {log.name}", *log.read_text(errors="replace").splitlines()[-lines:], sep="\n")
