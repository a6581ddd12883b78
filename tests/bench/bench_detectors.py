"""Benchmarks the monitor's detectors: query latency over 10 million telemetry rows in chDB, and the time
from a drift onset to its alert event through the broker.

Run it with `python -m tests.bench.bench_detectors` (`--rows` to change the 10 million).
- Each detector is timed cold (a new detector: the reference window is read too) and warm (the
  reference cached, as from the second scheduled run on), per deployed model; the cost detector covers
  every tenant and model at once. Embedding drift is timed for its SQL alone and with MiniLM embedding.
- Drift onset: stable traffic flows through Kafka into the sink, then shifts; the figure is the time from
  the first shifted event to the drift alert event read back from the alerts topic, with the detectors on
  a one-second schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import NewTopic
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from llmops_common.embedding.model_files import DEFAULT_EMBEDDING_MODEL, locate_model
from llmops_common.embedding.sentence_embedder import SentenceTransformerEmbedder
from llmops_common.events import Event, ModelPromotedV1
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.batch_consumer import BatchLimits
from llmops_common.kafka.broker import build_broker
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store
from services.monitor.alert_tracker import AlertTracker
from services.monitor.alerting import Alerting, run_on_schedule
from services.monitor.detection import ModelDetector
from services.monitor.detection_targets import model_targets
from services.monitor.detector_settings import Budget, CostSettings, DetectionSettings, EmbeddingDriftSettings
from services.monitor.detectors.cost import CostDetector
from services.monitor.detectors.drift import DriftDetector
from services.monitor.detectors.embedding import PROMPT_SAMPLE_SQL, EmbeddingDriftDetector
from services.monitor.detectors.latency import LatencyDetector
from services.monitor.detectors.quality import QualityDetector
from services.monitor.monitoring import build_detection_run
from services.monitor.settings import Settings
from services.monitor.sink_runner import profile_reader, running_sink
from services.monitor.telemetry_rows import telemetry_routes
from tests.bench.report import bench_broker, table, verdict
from tests.bench.telemetry_fill import fill
from tests.support.synthetic_traffic import SHIFTED, STABLE, inference_event, publish_at, window_traffic

DETECTOR_GOAL_MS = 500.0
REPEATS = 5
BUDGETS = (
    Budget(window="hour", limit_usd=5.0),
    Budget(window="day", limit_usd=50.0, enforce=True),
    Budget(window="month", limit_usd=1000.0),
    Budget(model_name="*", window="day", limit_usd=40.0),
)


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def timings(cold: Callable[[], Callable[[], object]], repeats: int = REPEATS) -> tuple[list[float], list[float]]:
    """Cold runs (each on a fresh detector) and warm runs (the same detector again)."""
    cold_ms, warm_ms = [], []
    for _ in range(repeats):
        measure = cold()
        cold_ms.append(timed_ms(measure))
        warm_ms.append(timed_ms(measure))
    return cold_ms, warm_ms


def detector_cases(
    store: TelemetryStore, settings: Settings, now: datetime, embedder: SentenceTransformerEmbedder | None
) -> list[tuple[str, Callable[[], Callable[[], object]]]]:
    """(name, factory): each factory makes a fresh detector and returns its measuring call."""
    target = model_targets(store, now, settings.detection)[0]

    def on_target(make: Callable[[], ModelDetector]) -> Callable[[], Callable[[], object]]:
        def fresh() -> Callable[[], object]:
            detector = make()
            return lambda: detector.measure(store, target)

        return fresh

    def fresh_cost() -> Callable[[], object]:
        detector = CostDetector(settings.cost)
        return lambda: detector.measure(store, now)

    def sample_sql() -> Callable[[], object]:
        size = settings.embedding_drift.sample_size
        windows = [w for w in (target.current, target.reference) if w is not None]
        parameters = [{"model": target.model_name, "start": w.start, "end": w.end, "limit": size} for w in windows]
        return lambda: [store.query(PROMPT_SAMPLE_SQL, p) for p in parameters]

    cases: list[tuple[str, Callable[[], Callable[[], object]]]] = [
        ("deployed models and windows", lambda: lambda: model_targets(store, now, settings.detection)),
        ("drift: PSI + KS, 3 metrics", on_target(lambda: DriftDetector(settings.drift))),
        ("quality: feedback, outputs, errors", on_target(lambda: QualityDetector(settings.quality))),
        ("latency: p95 and TTFT p95", on_target(lambda: LatencyDetector(settings.latency))),
        ("cost: budgets, spikes, projection (fleet)", fresh_cost),
        ("embedding drift: prompt samples (SQL)", sample_sql),
    ]
    if embedder is not None:
        cases.append(
            (
                "embedding drift: SQL + MiniLM + MMD",
                on_target(lambda: EmbeddingDriftDetector(settings.embedding_drift, embedder)),
            )
        )
    return cases


def detector_rows(
    store: TelemetryStore, settings: Settings, now: datetime, embedder: SentenceTransformerEmbedder | None
) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        ("detector (one model)", "cold p50 ms", "cold max ms", "warm p50 ms", f"goal < {DETECTOR_GOAL_MS:g} ms")
    ]
    for name, factory in detector_cases(store, settings, now, embedder):
        with_model = "MiniLM" in name
        cold, warm = timings(factory, 2 if with_model else REPEATS)
        goal = "n/a (model compute)" if with_model else verdict(max(cold) < DETECTOR_GOAL_MS)
        rows.append(
            (name, f"{statistics.median(cold):.0f}", f"{max(cold):.0f}", f"{statistics.median(warm):.0f}", goal)
        )
    return rows


async def onset_to_alert(seconds_limit: float, embedder: SentenceTransformerEmbedder | None) -> list[tuple[str, ...]]:
    """Stable traffic, then a shift: the time from the first shifted event to each drift alert event."""
    detectors = ("drift", "embedding_drift") if embedder is not None else ("drift",)
    with bench_broker() as bootstrap, tempfile.TemporaryDirectory() as folder:
        platform = PlatformSettings(kafka_bootstrap=bootstrap, data_dir=Path(folder))
        unique = uuid.uuid4().hex[:8]
        routes = {
            f"{name}.{unique}": route
            for name, route in telemetry_routes(profile_reader(open_artifact_store(platform))).items()
        }
        await create_topics(platform, [NewTopic(name, 3, 1) for name in routes])
        topic = {route.table: name for name, route in routes.items()}
        store = open_telemetry_store(platform, Path(folder) / "monitor")
        broker = build_broker(platform, client_id="bench-detectors")
        await broker.connect()
        settings = Settings(
            **platform.model_dump(),
            detection=DetectionSettings(
                current_window_seconds=60, reference_window_seconds=540, interval_seconds=1.0, resolve_after_runs=1
            ),
            embedding_drift=EmbeddingDriftSettings(sample_size=64, min_samples=30),
            cost=CostSettings(min_trailing_hourly_usd=1000.0),
        )
        publisher = EventPublisher(broker, "monitor")

        async def publish(event: Event) -> None:
            await publisher.publish(event, topic=topic["alerts"])

        alerting = Alerting(
            build_detection_run(store, settings, embedder),
            AlertTracker(settings.detection),
            publish,
            query_base_url="http://monitor",
        )
        rng = random.Random(11)  # noqa: S311 - synthetic traffic
        start = datetime.now(UTC) - timedelta(minutes=10)
        promotion = ModelPromotedV1(
            model_name="bot", changed_by="bench", changed_at=start, base_model="b", adapter_version="v1"
        )
        await publish_at(broker, topic["model_lifecycle"], [(promotion, start)])
        await publish_at(
            broker,
            topic["inference_completed"],
            window_traffic(rng, STABLE, start, 2000, model="bot", length=timedelta(minutes=9)),
        )
        alerts = AIOKafkaConsumer(topic["alerts"], bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await alerts.start()
        first_seen: dict[str, float] = {}
        async with running_sink(
            platform,
            store,
            routes,
            broker=broker,
            registry=CollectorRegistry(),
            limits=BatchLimits(max_records=1000, max_wait_seconds=0.2),
        ):
            schedule = asyncio.create_task(run_on_schedule(alerting, lambda: datetime.now(UTC), 1.0))
            onset = await traffic_until_alerts(
                broker, topic["inference_completed"], alerts, rng, first_seen, seconds_limit, detectors
            )
            schedule.cancel()
        await alerts.stop()
        await broker.stop()
        store.close()
    rows: list[tuple[str, ...]] = [("alert (drift onset at t=0)", "seconds to the alert event")]
    rows += [(alert_id, f"{first_seen[alert_id] - onset:.1f}") for alert_id in sorted(first_seen)]
    if not first_seen:
        rows.append(("no drift alert", f"> {seconds_limit:g}"))
    return rows


async def traffic_until_alerts(
    broker: KafkaBroker,
    inference_topic: str,
    alerts: AIOKafkaConsumer,
    rng: random.Random,
    first_seen: dict[str, float],
    seconds_limit: float,
    detectors: tuple[str, ...],
) -> float:
    """10 s of live stable traffic at about 50 events/s, then shifted traffic until each detector alerts."""
    rate = 50
    onset = time.monotonic() + 10.0
    deadline = onset + seconds_limit
    while time.monotonic() < deadline:
        shape = SHIFTED if time.monotonic() >= onset else STABLE
        now = datetime.now(UTC)
        await publish_at(
            broker,
            inference_topic,
            [(inference_event(rng, shape, model="bot", tenant="acme", at=now), now) for _ in range(rate // 10)],
        )
        batches = await alerts.getmany(timeout_ms=100)
        for record in (r for batch in batches.values() for r in batch):
            alert_id = json.loads(record.value)["alert_id"]
            first_seen.setdefault(alert_id, time.monotonic())
        if all(any(a.startswith(f"{d}.") for a in first_seen) for d in detectors):
            break
    return onset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--no-embedding", action="store_true", help="skip MiniLM (SQL figures only)")
    parser.add_argument("--onset-limit", type=float, default=90.0)
    args = parser.parse_args()
    embedder = (
        None
        if args.no_embedding
        else SentenceTransformerEmbedder.load(locate_model(DEFAULT_EMBEDDING_MODEL), threads=2)
    )
    print(render_detectors(args.rows, embedder))
    print()
    print(
        table(
            "Drift onset to alert event (Kafka -> sink -> chDB -> detectors every 1 s -> llmops.alerts)",
            asyncio.run(onset_to_alert(args.onset_limit, embedder)),
        )
    )


def render_detectors(rows: int, embedder: SentenceTransformerEmbedder | None) -> str:
    with tempfile.TemporaryDirectory() as folder:
        store = open_telemetry_store(PlatformSettings(data_dir=Path(folder)), Path(folder) / "monitor")
        end = datetime.now(UTC).replace(second=0, microsecond=0)
        started = time.perf_counter()
        fill(store, rows, end, timedelta(days=7), feedback_rows=rows // 20)
        fill_s = time.perf_counter() - started
        settings = Settings(cost=CostSettings(budgets=BUDGETS))
        lines = detector_rows(store, settings, end, embedder)
        store.close()
    header = (
        f"Detector query latency over {rows:,} inference rows (+{rows // 20:,} feedback) in chDB, 7 days, "
        f"4 tenants, 5 models; filled in {fill_s:.0f} s"
    )
    return table(header, lines)


if __name__ == "__main__":
    main()
