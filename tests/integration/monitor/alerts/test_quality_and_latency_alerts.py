"""Quality and latency alerts through the broker and chDB: negative feedback, errors, refusals and a
slow p95 each raise their alert, and each resolves when its metric recovers."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from llmops_common.events import Event, FeedbackSubmittedV1, ModelPromotedV1
from services.monitor.detector_settings import LatencySettings, WebhookSettings
from services.monitor.webhook import SlackWebhook
from tests.integration.monitor.alerts.harness import HOUR, MonitorHarness, hour_start, monitor_settings
from tests.support.synthetic_traffic import STABLE, spread, window_traffic
from tests.support.webhook_server import Hook, serve

MODEL = "support-bot"


def feedback(scores: list[int], start: datetime) -> list[tuple[Event, datetime]]:
    """One feedback event per score, on the model, spread over the hour from `start`."""
    return [
        (
            FeedbackSubmittedV1(
                feedback_id=uuid.uuid4().hex,
                request_id=uuid.uuid4().hex,
                tenant="acme",
                model_name=MODEL,
                score=score,
                submitted_at=at,
            ),
            at,
        )
        for score, at in zip(scores, spread(start, start + HOUR, len(scores)), strict=True)
    ]


async def promote(harness: MonitorHarness, at: datetime) -> None:
    promotion = ModelPromotedV1(
        model_name=MODEL, changed_by="evaluator", changed_at=at, base_model="tiny-llama", adapter_version="v1"
    )
    await harness.send("model_lifecycle", [(promotion, at)])


@pytest.fixture
def hook() -> Iterator[Hook]:
    yield from serve([])


async def test_negative_feedback_errors_and_refusals_raise_quality_alerts_that_resolve(
    harness: MonitorHarness, hook: Hook
) -> None:
    promoted_at = hour_start(8)
    await promote(harness, promoted_at)
    await harness.send("inference_completed", window_traffic(harness.rng, STABLE, promoted_at, 200, model=MODEL))
    await harness.send("feedback", feedback([1] * 36 + [-1] * 4, promoted_at))
    webhook = SlackWebhook(WebhookSettings(url=hook.url))
    alerting = harness.alerting(monitor_settings(harness.settings), webhook=webhook)

    bad_hour = hour_start(5)
    degraded = dataclasses.replace(STABLE, error_rate=0.15, refusal_rate=0.3)
    await harness.send("inference_completed", window_traffic(harness.rng, degraded, bad_hour, 200, model=MODEL))
    await harness.send("feedback", feedback([1] * 16 + [-1] * 24, bad_hour))
    fired = await alerting.run_once(bad_hour + HOUR)

    quality = {
        f"quality.{metric}/*/{MODEL}"
        for metric in ("negative_feedback_rate", "feedback_mean_drop", "error_rate", "empty_or_refusal_rate")
    }
    assert {(t.kind, t.measurement.alert_id) for t in fired} == {("fired", alert_id) for alert_id in quality}
    values = {t.measurement.metric: t.measurement.value for t in fired}
    assert values["negative_feedback_rate"] == 0.6
    assert abs(values["feedback_mean_drop"] - (0.9 - 0.4)) < 1e-9

    good_hour = hour_start(3)
    await harness.send("inference_completed", window_traffic(harness.rng, STABLE, good_hour, 200, model=MODEL))
    await harness.send("feedback", feedback([1] * 38 + [-1] * 2, good_hour))
    resolved = await alerting.run_once(good_hour + HOUR)

    assert {(t.kind, t.measurement.alert_id) for t in resolved} == {("resolved", alert_id) for alert_id in quality}
    await alerting.drain(timeout=10)
    await webhook.close()
    posted = sorted(str(body["text"]).split(":")[0] for body in hook.bodies)
    assert (
        posted
        == ["[RESOLVED] quality (model=support-bot, adapter=v1)"] * 4
        + ["[WARNING] quality (model=support-bot, adapter=v1)"] * 4
    )


async def test_a_slow_p95_raises_the_latency_alert_until_it_recovers(harness: MonitorHarness) -> None:
    # The objective is judged over the whole hour the test spreads its traffic over.
    alerting = harness.alerting(monitor_settings(harness.settings, latency=LatencySettings(window_seconds=3600)))
    slow_hour = hour_start(4)
    slow = dataclasses.replace(STABLE, latency_ms_mean=3000, ttft_ms_mean=900)
    await harness.send("inference_completed", window_traffic(harness.rng, slow, slow_hour, 200, model=MODEL))

    fired = await alerting.run_once(slow_hour + HOUR)

    assert {(t.kind, t.measurement.alert_id, t.severity) for t in fired} == {
        ("fired", f"latency.p95_latency_ms/*/{MODEL}", "warning"),
        # A p95 over twice the objective is critical.
        ("fired", f"latency.p95_ttft_ms/*/{MODEL}", "critical"),
    }
    latency = next(t.measurement for t in fired if t.measurement.metric == "p95_latency_ms")
    assert 3000 < latency.value < 4500
    assert latency.limit is not None
    assert latency.limit.threshold == 2000

    fast_hour = hour_start(2)
    await harness.send("inference_completed", window_traffic(harness.rng, STABLE, fast_hour, 200, model=MODEL))
    resolved = await alerting.run_once(fast_hour + HOUR)

    assert {(t.kind, t.measurement.alert_id) for t in resolved} == {
        ("resolved", f"latency.p95_latency_ms/*/{MODEL}"),
        ("resolved", f"latency.p95_ttft_ms/*/{MODEL}"),
    }
