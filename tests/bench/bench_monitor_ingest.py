"""Benchmarks the monitor's telemetry ingest (Kafka into ClickHouse) against a raw aiokafka consume.

Run it with `python -m tests.bench.bench_monitor_ingest [--events N] [--rounds R]`. It starts Tansu on
a free port, or uses `LLMOPS_BENCH_KAFKA_BOOTSTRAP` when that is set.

One topic is filled, untimed, with `InferenceCompletedV1` records as the model server sends them
(CloudEvents headers, a JSON body with redacted prompt and completion text). Each round then reads the
whole topic twice, in alternating order, each time in a consumer group of its own:

- raw: `bench_bus.raw_consume`, an `AIOKafkaConsumer` that polls with `getmany` and commits after every
  poll, doing nothing else;
- sink: the monitor's sink, which validates every event, builds its row, inserts batches of at least
  1,000 rows (or after 1 s) into chdb with its rollup views, and commits after each insert.

The clock starts when the consumer gets its partitions, so the group join is not counted, and stops
when the last record is counted (raw) or inserted (sink). The CPU column is this process's CPU time (all
threads, chdb's included) per event: unlike the rates, it barely moves when other work shares the
machine. Every sink round writes a fresh chdb folder, and its row counts are checked. The table shows
the median over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic
from prometheus_client import CollectorRegistry

from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.broker import build_broker
from llmops_common.kafka.envelope import new_envelope
from llmops_common.service.startup_heap import freeze_startup_heap
from llmops_common.settings import PlatformSettings
from llmops_common.storage.telemetry import open_telemetry_store
from services.monitor.settings import Settings as MonitorSettings
from services.monitor.sink_runner import running_sink
from services.monitor.telemetry_rows import telemetry_routes
from tests.bench import bench_bus
from tests.bench.bench_bus import BenchResult
from tests.bench.report import bench_broker, table, verdict

RAW, SINK = "raw aiokafka consume", "sink into ClickHouse"
RATE_GOAL = 50_000.0
RATIO_GOAL = 0.25
SESSION_TIMEOUT_MS, HEARTBEAT_MS = 1000, 300
START = datetime(2026, 11, 22, tzinfo=UTC)

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures."""

    bootstrap: str
    events: int = 100_000
    rounds: int = 3
    partitions: int = 3


def telemetry_event(n: int) -> InferenceCompletedV1:
    """The n-th request of a varied traffic mix: 4 tenants, 3 models, 2 adapters, some failures."""
    failed = n % 50 == 0
    return InferenceCompletedV1(
        request_id=f"req-{n:09d}",
        tenant=f"tenant-{n % 4}",
        key_id=f"key-{n % 16}",
        model_name=f"model-{n % 3}",
        base_model="tiny-llama-1.1b",
        adapter_version=f"v{n % 2 + 1}",
        canary_arm="stable",
        prompt_name="support-answer",
        prompt_version=3,
        prompt_tokens=40 + n % 200,
        completion_tokens=0 if failed else 20 + n % 300,
        time_to_first_token_ms=None if failed else 30.0 + n % 70,
        latency_ms=200.0 + n % 900,
        tokens_per_second=None if failed else 40.0 + n % 20,
        cost_usd=0.0001 * (n % 30),
        finish_reason="error" if failed else "stop",
        status="error" if failed else "ok",
        error_code="engine_error" if failed else None,
        http_status=500 if failed else 200,
        started_at=START + timedelta(milliseconds=n),
        prompt_text=f"How do I reset the password of account [EMAIL] on plan {n % 9}? It keeps failing.",
        completion_text="Open Settings, then Security, choose Reset password and follow the link we email you.",
        text_capture="redacted",
    )


def as_record(event: InferenceCompletedV1) -> Record:
    """The key, value and headers the model server's publisher sends for `event`."""
    headers = new_envelope(event, "model_server").headers()
    return (
        event.event_key().encode(),
        event.model_dump_json().encode(),
        [(name, value.encode()) for name, value in headers.items()],
    )


def bench_settings(config: BenchConfig, data_dir: Path) -> PlatformSettings:
    """Platform settings pointing at the bench broker, with every store under `data_dir`."""
    return PlatformSettings(
        kafka_bootstrap=config.bootstrap,
        kafka_topic_partitions=config.partitions,
        kafka_session_timeout_ms=SESSION_TIMEOUT_MS,
        kafka_heartbeat_interval_ms=HEARTBEAT_MS,
        data_dir=data_dir,
        clickhouse_url=None,
        artifact_url=None,
    )


async def fill_topic(config: BenchConfig, records: Sequence[Record]) -> str:
    """A fresh topic holding `records`."""
    topic = f"bench.telemetry.{uuid.uuid4().hex[:8]}"
    await create_topics(bench_settings(config, Path()), [NewTopic(topic, config.partitions, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=config.bootstrap, linger_ms=5, max_batch_size=1 << 20)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records]
        await producer.flush()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return topic


async def when(condition: Callable[[], bool], interval: float) -> float:
    """The `perf_counter` moment `condition` is first seen true, checking every `interval` seconds."""
    while True:
        if condition():
            return time.perf_counter()
        await asyncio.sleep(interval)


async def sink_consume(config: BenchConfig, topic: str, count: int, work: Path) -> tuple[float, float]:
    """Events/s of the monitor's sink into a fresh chdb store, until every row is inserted, and its CPU
    time per event in microseconds over the same span."""
    settings = bench_settings(config, work)
    store = open_telemetry_store(settings, work / "monitor")
    registry = CollectorRegistry()
    broker = build_broker(settings, client_id="bench-sink")
    routes = {topic: telemetry_routes(lambda _: "")["llmops.inference.completed"]}
    try:
        async with running_sink(
            settings,
            store,
            routes,
            broker=broker,
            registry=registry,
            limits=MonitorSettings().sink_limits(),
            group_id=f"sink-{uuid.uuid4().hex}",
        ) as consumer:
            started = await when(lambda: consumer.assigned, interval=0.001)
            cpu_started = process_cpu_seconds()

            def inserted() -> float:
                return registry.get_sample_value("llmops_sink_rows_total", {"table": "inference_completed"}) or 0

            elapsed = await when(lambda: inserted() >= count, interval=0.005) - started
            cpu_us = (process_cpu_seconds() - cpu_started) / count * 1e6
        stored = store.query("SELECT count() AS n FROM inference_completed")[0]["n"]
        rolled_up = store.query("SELECT sum(requests) AS n FROM inference_minute")[0]["n"]
        if stored != count or rolled_up != count:
            raise AssertionError(f"the sink stored {stored} rows and rolled up {rolled_up}, not {count}")
        return count / elapsed, cpu_us
    finally:
        store.close()
        await broker.stop()


async def run_benchmark(config: BenchConfig) -> BenchResult:
    """Fills one topic, then measures both sides `config.rounds` times, alternating which goes first."""
    result = BenchResult()
    topic = await fill_topic(config, [as_record(telemetry_event(n)) for n in range(config.events)])
    # As the monitor's process does once it has started (see `create_service_app`).
    freeze_startup_heap()
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as folder:
        for n in range(config.rounds):
            sides = ("raw", "sink") if n % 2 == 0 else ("sink", "raw")
            for side in sides:
                if side == "raw":
                    # The raw side's CPU includes joining the group; per event that is negligible.
                    cpu_before = process_cpu_seconds()
                    raw = bench_bus.raw_consume(bench_bus.BenchConfig(config.bootstrap), topic, config.events)
                    result.add(RAW, await raw)
                    result.add(f"{RAW} cpu", (process_cpu_seconds() - cpu_before) / config.events * 1e6)
                else:
                    rate, cpu_us = await sink_consume(config, topic, config.events, Path(folder) / f"round-{n}")
                    result.add(SINK, rate)
                    result.add(f"{SINK} cpu", cpu_us)
    return result


def process_cpu_seconds() -> float:
    """CPU time of this process, all threads (chdb's included), user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def render(result: BenchResult, config: BenchConfig) -> str:
    """The benchmark's table."""
    raw, sink = result.median(RAW), result.median(SINK)
    raw_cpu, sink_cpu = result.median(f"{RAW} cpu"), result.median(f"{SINK} cpu")
    rows = [
        ("measurement", "events/s (median)", "rounds", "CPU us/event", "goal", "verdict"),
        (RAW, f"{raw:,.0f}", _rounds(result, RAW), f"{raw_cpu:.1f}", "baseline", ""),
        (
            SINK,
            f"{sink:,.0f}",
            _rounds(result, SINK),
            f"{sink_cpu:.1f}",
            f">= {RATE_GOAL:,.0f}/s",
            verdict(sink >= RATE_GOAL),
        ),
        ("sink / raw", f"{sink / raw:.0%}", "", "", f">= {RATIO_GOAL:.0%}", verdict(sink / raw >= RATIO_GOAL)),
    ]
    header = (
        f"Monitor telemetry ingest: {config.events:,} InferenceCompletedV1 events, {config.partitions} partitions, "
        f"{config.rounds} rounds (chdb embedded, batches of >= 1,000 rows or 1 s)"
    )
    return table(header, rows)


def _rounds(result: BenchResult, name: str) -> str:
    return " ".join(f"{rate:,.0f}" for rate in result.rates[name])


def main() -> None:
    """Runs the benchmark and prints its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=BenchConfig.events)
    parser.add_argument("--rounds", type=int, default=BenchConfig.rounds)
    args = parser.parse_args()
    with bench_broker() as bootstrap:
        config = BenchConfig(bootstrap, events=args.events, rounds=args.rounds)
        print(render(asyncio.run(run_benchmark(config)), config))


if __name__ == "__main__":
    main()
