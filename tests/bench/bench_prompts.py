"""Benchmarks the prompt registry: replay at start, render latency, writes through Kafka, and rollbacks.

Run it with `python -m tests.bench.bench_prompts` (what `make bench` calls). Each figure is measured
beside a baseline in the same run, since a small machine is noisy:
- replaying 10,000 versions into a `PromptCatalog`, beside reading the same records with plain aiokafka;
- rendering a typical chat prompt in the sandbox, beside plain (unsandboxed, unchecked) Jinja2;
- creating a version (publish, then read it back from the log), beside a bare produce-and-consume trip;
- a label rollback reaching another replica, from the moment the writer starts the move.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic
from prometheus_client import CollectorRegistry

from llmops_common.auth.keyring import Principal
from llmops_common.events import PromptVersionCreatedV1
from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import PromptVariable
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.replica import TopicReplica
from llmops_common.prompts.catalog import PromptCatalog
from llmops_common.prompts.rendering import PromptRenderer
from llmops_common.settings import PlatformSettings
from llmops_common.topics import PROMPTS, TopicSpec
from services.prompt_registry.schemas import LabelRequest, VersionRequest
from services.prompt_registry.service import PromptWriter
from services.prompt_registry.settings import Settings
from tests.bench.report import bench_broker, percentile, table, verdict

REPLAY_GOAL_S = 2.0
RENDER_P50_GOAL_US = 100.0
CREATE_P50_GOAL_MS = 20.0
ROLLBACK_GOAL_MS = 1000.0
TENANT = "bench"

MESSAGES = [
    ChatMessage(role="system", content="You are the support assistant of {{ product }}. Answer in {{ language }}."),
    ChatMessage(role="user", content="{{ question }}"),
    ChatMessage(role="assistant", content="Let me look that up for {{ product }}."),
]
VARIABLES = [PromptVariable(name=name) for name in ("product", "language", "question")]
VALUES = {"product": "Acme Cloud", "language": "English", "question": "How do I rotate my API key?"}


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures."""

    bootstrap: str
    versions: int = 10_000
    rounds: int = 3
    renders: int = 20_000
    writes: int = 200
    rollbacks: int = 30


@dataclass
class BenchResult:
    """Seconds per measurement, ours beside the baseline."""

    replay: list[float] = field(default_factory=list)
    replay_raw: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)
    render_raw: list[float] = field(default_factory=list)
    create: list[float] = field(default_factory=list)
    create_raw: list[float] = field(default_factory=list)
    rollback: list[float] = field(default_factory=list)


def settings_for(config: BenchConfig, data_dir: Path) -> Settings:
    """Registry settings pointing at the bench broker."""
    return Settings(
        kafka_bootstrap=config.bootstrap,
        data_dir=data_dir,
        kafka_session_timeout_ms=1000,
        kafka_heartbeat_interval_ms=300,
    )


def prompt_version(n: int, versions_per_prompt: int = 10) -> PromptVersionCreatedV1:
    """Version `n % 10 + 1` of prompt `n // 10`: a chat prompt like a team's."""
    return PromptVersionCreatedV1(
        tenant=TENANT,
        name=f"prompt-{n // versions_per_prompt:05d}",
        version=n % versions_per_prompt + 1,
        kind="chat",
        messages=MESSAGES,
        variables=VARIABLES,
        author="bench",
        created_at=datetime.now(UTC),
    )


async def fresh_topic(settings: PlatformSettings, label: str) -> TopicSpec:
    """A one-partition prompts topic of the run's own."""
    name = f"bench.{label}.{uuid.uuid4().hex[:8]}"
    await create_topics(settings, [NewTopic(name, 1, 1)])
    return TopicSpec(name, "bench", PROMPTS.key, PROMPTS.events, (), (), "compact", partitions=1)


async def measure_replay(config: BenchConfig, settings: PlatformSettings, bus: Bus, result: BenchResult) -> None:
    """Time to a caught-up catalog, and to read the same records raw, for `config.versions` versions."""
    topic = await fresh_topic(settings, "replay")
    await bus.publisher.publish_many([prompt_version(n) for n in range(config.versions)], topic=topic.name)
    for _ in range(config.rounds):
        started = time.perf_counter()
        await read_raw(config.bootstrap, topic.name, config.versions)
        result.replay_raw.append(time.perf_counter() - started)
        catalog = PromptCatalog()
        started = time.perf_counter()
        replica = TopicReplica(settings, topic, catalog.apply)
        await replica.start()
        await replica.wait_caught_up(timeout=60)
        result.replay.append(time.perf_counter() - started)
        await replica.close()
        assert len(catalog.summaries(TENANT)) == config.versions // 10


async def read_raw(bootstrap: str, topic: str, count: int) -> None:
    """Reads `count` records from the start of partition 0 with a bare consumer."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=50, max_records=5000)
            seen += sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()


def measure_render(config: BenchConfig, result: BenchResult) -> None:
    """Per-render seconds of the sandboxed renderer (compiled once) and of plain Jinja2."""
    catalog = PromptCatalog()
    catalog.apply(prompt_version(0))
    renderer = PromptRenderer(catalog)
    plain = [jinja2.Environment(autoescape=False).from_string(m.content) for m in MESSAGES]  # noqa: S701 - text

    def ours() -> None:
        renderer.render(TENANT, "prompt-00000", label=None, version=None, values=VALUES)

    def raw() -> None:
        [{"role": m.role, "content": t.render(VALUES)} for m, t in zip(MESSAGES, plain, strict=True)]

    for _ in range(config.renders // 1000):
        result.render += time_calls(ours, 1000)
        result.render_raw += time_calls(raw, 1000)


def time_calls(call: Callable[[], object], count: int) -> list[float]:
    """Seconds per call, `count` calls."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


async def measure_writes(config: BenchConfig, settings: Settings, bus: Bus, result: BenchResult) -> None:
    """Create-version round trips through the writer, beside bare produce-then-consume trips."""
    topic = await fresh_topic(settings, "writes")
    catalog, watcher_catalog = PromptCatalog(), PromptCatalog()
    replica = TopicReplica(settings, topic, catalog.apply)
    watcher = TopicReplica(settings, topic, watcher_catalog.apply)
    for started in (replica, watcher):
        await started.start()
        await started.wait_caught_up(timeout=30)
    writer = PromptWriter(catalog, replica, bus.publisher, settings, topic=topic.name)
    admin = Principal(
        key_id="bench",
        tenant=TENANT,
        roles=frozenset({"admin"}),
        models=frozenset(),
        rpm=None,
        tpm=None,
        max_input_tokens=None,
    )
    request = VersionRequest(kind="chat", messages=MESSAGES, variables=VARIABLES)
    try:
        raw = await bare_round_trips(config, settings, config.writes)
        for _ in range(config.writes):
            started_at = time.perf_counter()
            await writer.create_version(admin, "written", request)
            result.create.append(time.perf_counter() - started_at)
        result.create_raw = raw
        for n in range(config.rollbacks):
            target = 1 if n % 2 else 2  # forward to 2, back to 1, and so on
            moved_at = time.perf_counter()
            await writer.move_label(admin, "written", "production", LabelRequest(version=target))
            while label_target(watcher_catalog, "written", "production") != target:  # noqa: ASYNC110 - polling is the measurement
                await asyncio.sleep(0.001)
            result.rollback.append(time.perf_counter() - moved_at)
    finally:
        await replica.close()
        await watcher.close()


def label_target(catalog: PromptCatalog, name: str, label: str) -> int | None:
    """Where a label points in a replica's catalog; None while the replica has not seen the prompt or label."""
    history = catalog.find(TENANT, name)
    return history.labels.get(label) if history else None


async def bare_round_trips(config: BenchConfig, settings: PlatformSettings, count: int) -> list[float]:
    """Seconds from sending one record to reading it back with a following consumer."""
    topic = (await fresh_topic(settings, "bare")).name
    producer = AIOKafkaProducer(bootstrap_servers=config.bootstrap, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(bootstrap_servers=config.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    await producer.start()
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_end(partition)
        trips = []
        for n in range(count):
            started = time.perf_counter()
            await producer.send_and_wait(topic, f"{n}".encode(), partition=0)
            await consumer.getone()
            trips.append(time.perf_counter() - started)
        return trips
    finally:
        await producer.stop()
        await consumer.stop()


async def run_benchmark(config: BenchConfig) -> BenchResult:
    """Every measurement, in one run against `config.bootstrap`."""
    result = BenchResult()
    with tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp:
        settings = settings_for(config, Path(tmp))
        bus = Bus.create(settings, source="bench", state_dir=Path(tmp) / "bus", registry=CollectorRegistry())
        await bus.start()
        try:
            await measure_replay(config, settings, bus, result)
            measure_render(config, result)
            await measure_writes(config, settings, bus, result)
        finally:
            await bus.close()
    return result


def render(result: BenchResult, config: BenchConfig) -> str:
    """The results as a plain-text table."""
    replay, replay_raw = statistics.median(result.replay), statistics.median(result.replay_raw)
    render_p50, render_raw = percentile(result.render, 50) * 1e6, percentile(result.render_raw, 50) * 1e6
    create_p50, create_raw = percentile(result.create, 50) * 1e3, percentile(result.create_raw, 50) * 1e3
    rollback_p50 = percentile(result.rollback, 50) * 1e3
    rows = [
        ("metric", "baseline", "ours", "ratio", "goal", "result"),
        (
            f"replay {config.versions:,} versions (s)",
            f"{replay_raw:.2f}",
            f"{replay:.2f}",
            f"{replay / replay_raw:.1f}x",
            f"< {REPLAY_GOAL_S:g} s",
            verdict(replay < REPLAY_GOAL_S),
        ),
        (
            "render chat prompt p50 (us)",
            f"{render_raw:.1f}",
            f"{render_p50:.1f}",
            f"{render_p50 / render_raw:.1f}x",
            f"< {RENDER_P50_GOAL_US:g} us",
            verdict(render_p50 < RENDER_P50_GOAL_US),
        ),
        (
            "render chat prompt p99 (us)",
            f"{percentile(result.render_raw, 99) * 1e6:.1f}",
            f"{percentile(result.render, 99) * 1e6:.1f}",
            "-",
            "-",
            "-",
        ),
        (
            "create version p50 (ms)",
            f"{create_raw:.2f}",
            f"{create_p50:.2f}",
            f"{create_p50 / create_raw:.1f}x",
            f"< {CREATE_P50_GOAL_MS:g} ms",
            verdict(create_p50 < CREATE_P50_GOAL_MS),
        ),
        (
            "create version p99 (ms)",
            f"{percentile(result.create_raw, 99) * 1e3:.2f}",
            f"{percentile(result.create, 99) * 1e3:.2f}",
            "-",
            "-",
            "-",
        ),
        (
            "rollback seen by a replica p50 (ms)",
            "-",
            f"{rollback_p50:.1f}",
            "-",
            f"< {ROLLBACK_GOAL_MS:g} ms",
            verdict(rollback_p50 < ROLLBACK_GOAL_MS),
        ),
        ("rollback seen by a replica max (ms)", "-", f"{max(result.rollback) * 1e3:.1f}", "-", "-", "-"),
    ]
    header = (
        f"replay: median of {config.rounds} rounds, baseline = plain aiokafka read; render: {len(result.render):,} "
        f"calls, baseline = plain Jinja2; create: {config.writes} sequential writes, baseline = produce then "
        f"consume one record; rollback: {config.rollbacks} label moves"
    )
    return table(header, rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=BenchConfig.versions)
    parser.add_argument("--rounds", type=int, default=BenchConfig.rounds)
    parser.add_argument("--writes", type=int, default=BenchConfig.writes)
    args = parser.parse_args(argv)
    with bench_broker() as bootstrap:
        config = BenchConfig(bootstrap, versions=args.versions, rounds=args.rounds, writes=args.writes)
        result = asyncio.run(run_benchmark(config))
    print(render(result, config))


if __name__ == "__main__":
    main()
