"""The Slack-compatible webhook against a real local HTTP server: delivery, bounded retries, no retry on 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from llmops_common.events import AlertFiredV1
from llmops_common.events.alerts import AlertScope, TimeWindow
from services.monitor.detector_settings import WebhookSettings
from services.monitor.webhook import SlackWebhook
from tests.support.webhook_server import Hook, serve

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def flaky_hook() -> Iterator[Hook]:
    yield from serve([503, 500])


@pytest.fixture
def down_hook() -> Iterator[Hook]:
    yield from serve([503] * 10)


@pytest.fixture
def refusing_hook() -> Iterator[Hook]:
    yield from serve([400])


def alert() -> AlertFiredV1:
    return AlertFiredV1(
        alert_id="latency.p95_latency_ms/*/bot",
        detector="latency",
        scope=AlertScope(model_name="bot", adapter_version="v3"),
        value=2600.0,
        threshold=2000.0,
        current_window=TimeWindow(start=AT - timedelta(minutes=5), end=AT),
        query_url="http://monitor/clickhouse/?query=SELECT+1",
        at=AT,
        severity="warning",
        message="p95_latency 2600 ms against the 2000 ms objective",
    )


async def test_a_flaky_hook_gets_the_alert_on_the_third_attempt(flaky_hook: Hook) -> None:
    webhook = SlackWebhook(WebhookSettings(url=flaky_hook.url, attempts=3, backoff_seconds=0.01))

    assert await webhook.post(alert()) is True
    await webhook.close()

    assert len(flaky_hook.bodies) == 3
    body = flaky_hook.bodies[-1]
    assert body["text"] == (
        "[WARNING] latency (model=bot, adapter=v3): p95_latency 2600 ms against the 2000 ms objective"
    )
    attachment = body["attachments"][0]  # type: ignore[index]
    assert attachment["title"] == "latency.p95_latency_ms/*/bot"
    assert attachment["title_link"] == "http://monitor/clickhouse/?query=SELECT+1"
    assert attachment["fields"][:2] == [
        {"title": "value", "value": "2600", "short": True},
        {"title": "threshold", "value": "2000", "short": True},
    ]


async def test_a_hook_that_stays_down_is_given_up_after_the_bounded_attempts(down_hook: Hook) -> None:
    webhook = SlackWebhook(WebhookSettings(url=down_hook.url, attempts=4, backoff_seconds=0.01))
    assert await webhook.post(alert()) is False
    await webhook.close()
    assert len(down_hook.bodies) == 4


async def test_a_hook_that_refuses_the_body_is_not_retried(refusing_hook: Hook) -> None:
    webhook = SlackWebhook(WebhookSettings(url=refusing_hook.url, attempts=3, backoff_seconds=0.01))
    assert await webhook.post(alert()) is False
    await webhook.close()
    assert len(refusing_hook.bodies) == 1
