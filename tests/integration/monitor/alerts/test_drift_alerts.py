"""Drift alerts end to end: traffic through the broker and the sink into chDB, the detectors at a clock
the test sets, and the alert events read back from the broker."""

from __future__ import annotations

import json

from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder
from llmops_common.events import ModelPromotedV1
from services.monitor.detector_settings import CostSettings, DetectionSettings, EmbeddingDriftSettings
from services.monitor.settings import Settings
from tests.integration.monitor.alerts.harness import HOUR, MonitorHarness, hour_start, monitor_settings
from tests.integration.monitor.conftest import topic_of
from tests.support.synthetic_traffic import SHIFTED, STABLE, window_traffic
from tests.support.topic_reader import headers_of, read_topic

MODEL = "support-bot"
DRIFT_ALERTS = {
    f"{metric}/*/{MODEL}"
    for metric in (
        "drift.psi_prompt_tokens",
        "drift.ks_prompt_tokens",
        "drift.psi_completion_tokens",
        "drift.ks_completion_tokens",
        "drift.psi_output_chars",
        "drift.ks_output_chars",
        "embedding_drift.centroid_cosine",
        "embedding_drift.mmd_p_value",
    )
}


async def alert_events(harness: MonitorHarness, count: int) -> list[tuple[str, dict[str, object]]]:
    records = await read_topic(harness.settings.kafka_bootstrap, topic_of(harness.routes, "alerts"), count, timeout=5)
    return [(headers_of(r)["ce_type"], json.loads(r.value)) for r in records]


async def promote_and_send_reference(harness: MonitorHarness) -> None:
    promoted_at = hour_start(8)
    promotion = ModelPromotedV1(
        model_name=MODEL, changed_by="evaluator", changed_at=promoted_at, base_model="tiny-llama", adapter_version="v1"
    )
    await harness.send("model_lifecycle", [(promotion, promoted_at)])
    await harness.send("inference_completed", window_traffic(harness.rng, STABLE, promoted_at, 300, model=MODEL))


def settings_for(harness: MonitorHarness) -> Settings:
    return monitor_settings(
        harness.settings,
        detection=DetectionSettings(current_window_seconds=3600, reference_window_seconds=3600, resolve_after_runs=1),
        embedding_drift=EmbeddingDriftSettings(sample_size=64, min_samples=30),
        # The traffic starts from nothing: no spend spike is of interest here.
        cost=CostSettings(min_trailing_hourly_usd=1.0),
    )


async def test_stable_traffic_raises_no_alert(harness: MonitorHarness, embedder: SentenceTransformerEmbedder) -> None:
    await promote_and_send_reference(harness)
    current_start = hour_start(5)
    await harness.send("inference_completed", window_traffic(harness.rng, STABLE, current_start, 300, model=MODEL))
    alerting = harness.alerting(settings_for(harness), embedder)

    transitions = await alerting.run_once(current_start + HOUR)

    assert transitions == []
    measured = harness.store.query(
        "SELECT detector, metric, breached FROM detector_measurements ORDER BY detector, metric"
    )
    assert {(row["detector"], row["metric"]) for row in measured} >= {
        ("drift", "psi_prompt_tokens"),
        ("drift", "ks_output_chars"),
        ("embedding_drift", "centroid_cosine"),
        ("embedding_drift", "mmd_p_value"),
        ("latency", "p95_latency_ms"),
        ("quality", "error_rate"),
    }
    assert not any(row["breached"] for row in measured)


async def test_a_shifted_burst_raises_input_and_embedding_drift_then_resolves(
    harness: MonitorHarness, embedder: SentenceTransformerEmbedder
) -> None:
    await promote_and_send_reference(harness)
    burst_start = hour_start(5)
    await harness.send("inference_completed", window_traffic(harness.rng, SHIFTED, burst_start, 300, model=MODEL))
    alerting = harness.alerting(settings_for(harness), embedder)

    fired = await alerting.run_once(burst_start + HOUR)

    assert {t.measurement.alert_id for t in fired} == DRIFT_ALERTS
    assert {t.kind for t in fired} == {"fired"}
    events = await alert_events(harness, len(DRIFT_ALERTS))
    assert {body["alert_id"] for _, body in events} == DRIFT_ALERTS
    psi = next(body for _, body in events if body["alert_id"] == f"drift.psi_prompt_tokens/*/{MODEL}")
    assert psi["detector"] == "drift"
    assert psi["scope"] == {"tenant": None, "model_name": MODEL, "adapter_version": "v1"}
    assert psi["value"] > psi["threshold"] == 0.2
    assert psi["reference_window"]["start"].startswith(hour_start(8).isoformat()[:19])
    assert str(psi["query_url"]).startswith("http://monitor.test/?query=SELECT")

    # The same burst measured again an hour later makes no second alert: one incident, one event.
    assert await alerting.run_once(burst_start + HOUR + HOUR / 60) == []

    recovered_start = hour_start(3)
    await harness.send("inference_completed", window_traffic(harness.rng, STABLE, recovered_start, 300, model=MODEL))
    resolved = await alerting.run_once(recovered_start + HOUR)

    assert {t.measurement.alert_id for t in resolved} == DRIFT_ALERTS
    assert {t.kind for t in resolved} == {"resolved"}
    events = await alert_events(harness, 2 * len(DRIFT_ALERTS))
    assert sorted(kind for kind, _ in events).count("llmops.alert.resolved.v1") == len(DRIFT_ALERTS)
