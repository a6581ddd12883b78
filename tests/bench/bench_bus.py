"""Benchmarks the Kafka layer against raw aiokafka on one local broker, and prints a table.

Run it with `python -m tests.bench.bench_bus [--events N] [--rounds R]` (what `make bench` calls).
It starts Tansu on a free port, or uses `LLMOPS_BENCH_KAFKA_BOOTSTRAP` when that is set.

Raw and layer measurements alternate within each round, and the table shows the median over the
rounds, since a small machine is noisy. Every measurement gets a topic of its own. Both sides send
and read the same records, about 1 KB each: a `RecordSubmittedV1` body with its CloudEvents headers.
The raw producer sends them ready-made, while the layer builds each envelope and body itself. The two
consume measurements read identical topics that were filled without being timed. The clock starts
when the consumer gets its partitions, so the group join is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import NewTopic
from prometheus_client import CollectorRegistry

from llmops_common.events import RecordSubmittedV1, RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.kafka.envelope import new_envelope
from llmops_common.kafka.request_reply import Requester, send_reply
from llmops_common.settings import PlatformSettings
from tests.bench.report import bench_broker, percentile, quiet_access_log, table, verdict

EVENT_BYTES = 1024
BATCH_SIZE = PlatformSettings.model_fields["consumer_batch_size"].default
"""Records per poll, raw and ours alike: the platform's default."""
CONSUME_GOAL = 0.5
"""Our consume rate should be at least half of raw aiokafka's."""
REPLY_P50_GOAL_MS = 10.0
SESSION_TIMEOUT_MS, HEARTBEAT_MS = 1000, 300
"""Short group timings, as the integration tests use: Tansu holds a join for half the session timeout."""

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures."""

    bootstrap: str
    events: int = 50_000
    rounds: int = 5
    requests: int = 300
    warmup: int = 50
    idle_requests: int = 60
    partitions: int = 3


@dataclass
class BenchResult:
    """Each round's rates in events/s, and the request/reply round trips in seconds."""

    rates: dict[str, list[float]] = field(default_factory=dict)
    round_trips: list[float] = field(default_factory=list)
    idle_round_trips: list[float] = field(default_factory=list)

    def add(self, name: str, rate: float) -> None:
        """Records one round's rate of `name`."""
        self.rates.setdefault(name, []).append(rate)

    def median(self, name: str) -> float:
        """The median rate of `name` over the rounds."""
        return statistics.median(self.rates[name])

    def paired_ratio(self, metric: str) -> float:
        """The median over the rounds of ours / raw within each round: the two ran minutes apart at most,
        so load from other work on the machine cancels out better than in a ratio of medians."""
        pairs = zip(self.rates[f"{metric} ours"], self.rates[f"{metric} raw"], strict=True)
        return statistics.median(ours / raw for ours, raw in pairs)


@dataclass(frozen=True)
class Workload:
    """The events of a round, and the same events as ready-made records."""

    events: list[RecordSubmittedV1]
    records: list[Record]

    @classmethod
    def create(cls, count: int) -> Workload:
        """`count` events of about `EVENT_BYTES` each."""
        events = [padded_event(n) for n in range(count)]
        return cls(events, [as_record(event) for event in events])


def padded_event(n: int, size: int = EVENT_BYTES) -> RecordSubmittedV1:
    """A document record whose JSON body is `size` bytes."""

    def make(text: str) -> RecordSubmittedV1:
        return RecordSubmittedV1(
            record_id=f"rec-{n:09d}", tenant="acme", source="bench", kind="document", text=text, metadata={"lang": "en"}
        )

    bare = len(make("").model_dump_json())
    return make("x" * max(0, size - bare))


def as_record(event: RecordSubmittedV1) -> Record:
    """The key, value and headers our publisher would send for `event`."""
    headers = new_envelope(event, "bench").headers()
    return (
        event.event_key().encode(),
        event.model_dump_json().encode(),
        [(name, value.encode()) for name, value in headers.items()],
    )


async def make_topic(config: BenchConfig, label: str) -> str:
    """A fresh topic for one measurement."""
    name = f"bench.{label}.{uuid.uuid4().hex[:8]}"
    await create_topics(bus_settings(config), [NewTopic(name, config.partitions, 1)])
    return name


def bus_settings(config: BenchConfig) -> PlatformSettings:
    """Platform settings pointing at the bench broker."""
    return PlatformSettings(
        kafka_bootstrap=config.bootstrap,
        kafka_topic_partitions=config.partitions,
        consumer_batch_size=BATCH_SIZE,
        kafka_session_timeout_ms=SESSION_TIMEOUT_MS,
        kafka_heartbeat_interval_ms=HEARTBEAT_MS,
    )


@contextlib.asynccontextmanager
async def started_bus(config: BenchConfig, state_dir: Path, source: str = "bench") -> AsyncIterator[Bus]:
    """A bus whose subscribers the caller registers before `bus.start()`; closed on exit."""
    bus = Bus.create(bus_settings(config), source=source, state_dir=state_dir, registry=CollectorRegistry())
    try:
        yield bus
    finally:
        await bus.close()


async def send_records(producer: AIOKafkaProducer, topic: str, records: Sequence[Record]) -> None:
    """Sends every record pipelined, then waits for all acknowledgements."""
    futures = [await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records]
    await producer.flush()
    await asyncio.gather(*futures)


async def raw_produce(producer: AIOKafkaProducer, topic: str, records: Sequence[Record]) -> float:
    """Events/s of plain `AIOKafkaProducer.send` for ready-made records."""
    started = time.perf_counter()
    await send_records(producer, topic, records)
    return len(records) / (time.perf_counter() - started)


async def layer_produce(bus: Bus, topic: str, events: Sequence[RecordSubmittedV1]) -> float:
    """Events/s of `EventPublisher.publish_many`."""
    started = time.perf_counter()
    await bus.publisher.publish_many(events, topic=topic)
    return len(events) / (time.perf_counter() - started)


async def assigned_at(consumer: Callable[[], AIOKafkaConsumer | None]) -> float:
    """The moment the consumer first holds partitions."""
    while True:
        current = consumer()
        if current is not None and current.assignment():
            return time.perf_counter()
        await asyncio.sleep(0.001)


async def raw_consume(config: BenchConfig, topic: str, count: int) -> float:
    """Events/s of a group consumer that reads with `getmany` and commits after each batch."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=config.bootstrap,
        group_id=f"raw-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_MS,
    )
    await consumer.start()
    try:
        started = await assigned_at(lambda: consumer)
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=100, max_records=BATCH_SIZE)
            seen += sum(len(records) for records in batches.values())
            if batches:
                await consumer.commit()
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def layer_consume(config: BenchConfig, topic: str, count: int, state_dir: Path) -> float:
    """Events/s of an `EventConsumer` subscription, until its handler has seen every event."""
    handled = 0
    done = asyncio.Event()

    async def handle(event: RecordSubmittedV1, context: EventContext) -> None:
        nonlocal handled
        handled += 1
        if handled == count:
            done.set()

    async with started_bus(config, state_dir) as bus:
        subscriber = bus.consumer.subscribe(topic, [RecordSubmittedV1], handle, group_id=f"ours-{uuid.uuid4().hex}")
        await bus.start()
        started = await assigned_at(lambda: subscriber.consumer)
        await asyncio.wait_for(done.wait(), timeout=120)
        return count / (time.perf_counter() - started)


async def throughput_round(
    config: BenchConfig,
    n: int,
    load: Workload,
    producer: AIOKafkaProducer,
    publisher: Bus,
    result: BenchResult,
    work: Path,
) -> None:
    """One round of the four rate measurements; odd rounds run the layer first."""
    events, records = load.events, load.records
    raw_first = n % 2 == 0

    async def produce(side: str) -> None:
        topic = await make_topic(config, f"produce-{side}")
        if side == "raw":
            result.add("produce raw", await raw_produce(producer, topic, records))
        else:
            result.add("produce ours", await layer_produce(publisher, topic, events))

    async def consume(side: str) -> None:
        topic = await make_topic(config, f"consume-{side}")
        await send_records(producer, topic, records)
        if side == "raw":
            result.add("consume raw", await raw_consume(config, topic, len(records)))
        else:
            result.add("consume ours", await layer_consume(config, topic, len(records), work / f"round-{n}"))

    for step in (produce, consume):
        for side in ("raw", "ours") if raw_first else ("ours", "raw"):
            await step(side)


async def wait_assigned(subscriber: Any, timeout: float = 15.0) -> None:
    """Waits until a subscriber's consumer holds its partitions and their positions."""
    async with asyncio.timeout(timeout):
        await assigned_at(lambda: subscriber.consumer)
        for partition in subscriber.consumer.assignment():
            await subscriber.consumer.position(partition)


async def time_requests(
    requester: Requester[RetrievalAnsweredV1], topic: str, gaps_ms: Sequence[int], warmup: int = 0
) -> list[float]:
    """Seconds per sequential round trip, pausing `gaps_ms[n]` after request n; the warm-up is dropped."""
    trips = []
    for n, gap in enumerate(gaps_ms):
        question = RetrievalRequestedV1(request_id=f"q-{n}", tenant="acme", collection="docs", query="q")
        started = time.perf_counter()
        await requester.request(question, topic=topic, timeout=5)
        trips.append(time.perf_counter() - started)
        await asyncio.sleep(gap / 1000)
    return trips[warmup:]


async def request_reply(config: BenchConfig, result: BenchResult, work: Path) -> None:
    """Round trips through a `Requester` and a replier: back to back, then with the replier idle between."""
    requests, replies = await make_topic(config, "requests"), await make_topic(config, "replies")
    async with (
        started_bus(config, work / "replier", "replier") as replier,
        started_bus(config, work / "requester", "requester") as asker,
    ):

        async def answer(request: RetrievalRequestedV1, context: EventContext) -> None:
            await send_reply(replier.publisher, context, RetrievalAnsweredV1(request_id=request.request_id))

        subscriber = replier.consumer.subscribe(
            requests,
            [RetrievalRequestedV1],
            answer,
            group_id=f"replier-{uuid.uuid4().hex}",
            from_beginning=False,
            latency_sensitive=True,
        )
        await replier.start()
        requester = Requester(asker.broker, asker.publisher, replies, RetrievalAnsweredV1)
        await asker.start()
        await requester.wait_ready()
        await wait_assigned(subscriber)
        back_to_back = [0] * (config.warmup + config.requests)
        result.round_trips = await time_requests(requester, requests, back_to_back, config.warmup)
        # Pauses spread evenly over 0-396 ms: the replier's poll loop goes idle, as with real traffic.
        idle = [n * 37 % 100 * 4 for n in range(config.idle_requests)]
        result.idle_round_trips = await time_requests(requester, requests, idle)


async def run_benchmark(config: BenchConfig, progress: Callable[[str], None] = print) -> BenchResult:
    """Runs every measurement against `config.bootstrap` and returns the raw figures."""
    with quiet_access_log():
        return await measure_all(config, progress)


async def measure_all(config: BenchConfig, progress: Callable[[str], None]) -> BenchResult:
    """The throughput rounds, then request/reply."""
    result, load = BenchResult(), Workload.create(config.events)
    # The workload is the benchmark's fixture, not the consumer's: kept out of the garbage collector's
    # scans, it would otherwise tax whichever side allocates more, as no real consumer's heap would.
    gc.freeze()
    try:
        return await measure_rounds(config, load, result, progress)
    finally:
        gc.unfreeze()


async def measure_rounds(
    config: BenchConfig, load: Workload, result: BenchResult, progress: Callable[[str], None]
) -> BenchResult:
    """Every throughput round, then request/reply, into `result`."""
    producer = AIOKafkaProducer(bootstrap_servers=config.bootstrap, acks="all", linger_ms=0, enable_idempotence=False)
    await producer.start()
    with tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp:
        work = Path(tmp)
        try:
            async with started_bus(config, work / "publisher") as publisher:
                await publisher.start()
                for n in range(config.rounds):
                    await throughput_round(config, n, load, producer, publisher, result, work)
                    progress(
                        f"round {n + 1}/{config.rounds}: "
                        + ", ".join(f"{name} {rates[-1]:,.0f}/s" for name, rates in result.rates.items())
                    )
        finally:
            await producer.stop()
        await request_reply(config, result, work)
    return result


def render(result: BenchResult, config: BenchConfig) -> str:
    """The results as a plain-text table."""
    rows = [("metric", "raw aiokafka", "our layer", "ratio", "goal", "result")]
    for metric in ("produce", "consume"):
        raw, ours, ratio = result.median(f"{metric} raw"), result.median(f"{metric} ours"), result.paired_ratio(metric)
        goal, result_cell = (
            ("-", "-") if metric == "produce" else (f">= {CONSUME_GOAL:.0%} of raw", verdict(ratio >= CONSUME_GOAL))
        )
        rows.append((f"{metric} (events/s)", f"{raw:,.0f}", f"{ours:,.0f}", f"{ratio:.0%}", goal, result_cell))
    for label, trips in (("", result.round_trips), (" idle", result.idle_round_trips)):
        p50, p99 = (percentile(trips, q) * 1000 for q in (50, 99))
        goal = f"< {REPLY_P50_GOAL_MS:g} ms"
        rows.append((f"request/reply{label} p50", "-", f"{p50:.2f} ms", "-", goal, verdict(p50 < REPLY_P50_GOAL_MS)))
        rows.append((f"request/reply{label} p99", "-", f"{p99:.2f} ms", "-", "-", "-"))
    header = (
        f"{config.events:,} events of {EVENT_BYTES} B, {config.partitions} partitions, median of "
        f"{config.rounds} rounds (ratio: median of each round's ours/raw); request/reply: "
        f"{len(result.round_trips)} back to back after {config.warmup} warm-up, "
        f"then {len(result.idle_round_trips)} idle (0-400 ms apart)"
    )
    return table(header, rows)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=BenchConfig.events, help="events per measurement")
    parser.add_argument("--rounds", type=int, default=BenchConfig.rounds, help="rounds of each measurement")
    parser.add_argument("--requests", type=int, default=BenchConfig.requests, help="timed request/reply trips")
    parser.add_argument(
        "--idle-requests",
        type=int,
        default=BenchConfig.idle_requests,
        help="timed request/reply trips with the replier idle in between",
    )
    parser.add_argument("--partitions", type=int, default=BenchConfig.partitions, help="partitions per topic")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with bench_broker() as bootstrap:
        config = BenchConfig(
            bootstrap,
            events=args.events,
            rounds=args.rounds,
            requests=args.requests,
            idle_requests=args.idle_requests,
            partitions=args.partitions,
        )
        result = asyncio.run(run_benchmark(config))
    print(render(result, config))


if __name__ == "__main__":
    main()
