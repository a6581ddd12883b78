"""The telemetry sink on the real broker and chdb: every event lands in its table, and only once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import NewTopic
from faststream.kafka import KafkaBroker

from llmops_common.events import (
    AlertFiredV1,
    AlertResolvedV1,
    ArtifactRef,
    DatasetSealedV1,
    EvalCompletedV1,
    FeedbackSubmittedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    TrainingCompletedV1,
)
from llmops_common.events.alerts import AlertScope, TimeWindow
from llmops_common.kafka.admin import create_topics
from llmops_common.kafka.broker import client_kwargs
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import ArtifactStore
from llmops_common.storage.telemetry import TelemetryStore
from llmops_common.topics import dead_letter_topic
from services.monitor.sink_runner import DEAD_LETTER_GROUP
from services.monitor.telemetry_rows import TableRoute
from tests.integration.monitor.conftest import START, SinkFactory, inference, topic_of
from tests.support.topic_reader import eventually_async, headers_of, read_topic


def count(store: TelemetryStore, table: str) -> int:
    # No FINAL: a duplicate must not exist even before ReplacingMergeTree merges.
    return int(store.query(f"SELECT count() AS n FROM {table}")[0]["n"])  # noqa: S608 - test table names


def rollup_totals(store: TelemetryStore) -> dict[str, object]:
    minute = store.query(
        "SELECT sum(requests) AS requests, sum(errors) AS errors, sum(prompt_tokens) AS prompt_tokens, "
        "round(sum(cost_usd), 6) AS cost FROM inference_minute"
    )[0]
    daily = store.query("SELECT sum(requests) AS requests, round(sum(cost_usd), 6) AS cost FROM cost_daily")[0]
    return {"minute": minute, "daily": daily}


async def stored(store: TelemetryStore, table: str, expected: int) -> None:
    async def check() -> bool:
        return count(store, table) >= expected

    await eventually_async(check, timeout=30)


async def committed_to_end(settings: PlatformSettings, topic: str, group: str) -> None:
    """Waits until `group` has committed every record of `topic`."""
    consumer = AIOKafkaConsumer(**client_kwargs(settings), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        ends = await consumer.end_offsets(partitions)

        async def check() -> bool:
            committed = [await consumer.committed(tp) or 0 for tp in partitions]
            return all(offset >= ends[tp] for offset, tp in zip(committed, partitions, strict=True))

        await eventually_async(check, timeout=30)
    finally:
        await consumer.stop()


async def reset_group(settings: PlatformSettings, topic: str, group: str, partitions: int = 3) -> None:
    """Moves `group`'s committed offsets back to the start of `topic`, as an operator's reset does."""
    consumer = AIOKafkaConsumer(
        topic,
        **client_kwargs(settings),
        group_id=group,
        enable_auto_commit=False,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
    )
    await consumer.start()
    try:
        while len(consumer.assignment()) < partitions:
            await consumer.getmany(timeout_ms=100, max_records=1)
        await consumer.commit({TopicPartition(topic, p): 0 for p in range(partitions)})
    finally:
        await consumer.stop()


async def test_redelivered_events_create_no_rows_and_no_rollup_counts_twice(
    sink: SinkFactory,
    publisher: EventPublisher,
    telemetry: TelemetryStore,
    topic_routes: dict[str, TableRoute],
    settings: PlatformSettings,
    unique: str,
) -> None:
    topic = topic_of(topic_routes, "inference_completed")
    await publisher.publish_many([inference(n) for n in range(2000)], topic=topic)
    async with sink(f"sink-{unique}"):
        await committed_to_end(settings, topic, f"sink-{unique}")
    assert count(telemetry, "inference_completed") == 2000
    once = rollup_totals(telemetry)

    # The whole topic again to the same group (as after a crash before the commit, or a reset),
    # with 500 new events behind it, which must still get in.
    await reset_group(settings, topic, f"sink-{unique}")
    await publisher.publish_many([inference(n) for n in range(2000, 2500)], topic=topic)
    async with sink(f"sink-{unique}"):
        await committed_to_end(settings, topic, f"sink-{unique}")
    # And once more to a new group, which starts at the beginning.
    async with sink(f"other-{unique}"):
        await committed_to_end(settings, topic, f"other-{unique}")

    assert count(telemetry, "inference_completed") == 2500
    assert telemetry.query("SELECT uniqExact(event_id) AS n FROM inference_completed")[0]["n"] == 2500
    expected_cost = round(sum(inference(n).cost_usd for n in range(2500)), 6)
    assert rollup_totals(telemetry) == {
        "minute": {
            "requests": 2500,
            "errors": 250,
            "prompt_tokens": sum(10 + n % 7 for n in range(2500)),
            "cost": expected_cost,
        },
        "daily": {"requests": 2500, "cost": expected_cost},
    }
    assert once["minute"] == {
        "requests": 2000,
        "errors": 200,
        "prompt_tokens": sum(10 + n % 7 for n in range(2000)),
        "cost": round(sum(inference(n).cost_usd for n in range(2000)), 6),
    }


async def test_the_same_batch_inserted_twice_with_its_token_lands_once(telemetry: TelemetryStore) -> None:
    line = (
        b'{"event_id":"e1","event_time":"2026-11-22 12:00:00","request_id":"r1","tenant":"acme",'
        b'"model_name":"m","base_model":"b","prompt_tokens":1,"completion_tokens":2,"latency_ms":3,'
        b'"status":"ok","http_status":200,"started_at":"2026-11-22T12:00:00Z","a_field_of_v2":1}\n'
    )
    offsets = "telemetry:0:5-5"
    for _ in range(2):
        telemetry.insert_json_lines("inference_completed", line, deduplication_token=offsets)

    assert count(telemetry, "inference_completed") == 1
    assert telemetry.query("SELECT sum(requests) AS n FROM inference_minute") == [{"n": 1}]


def artifact(artifacts: ArtifactStore, document: object) -> ArtifactRef:
    return artifacts.put_bytes(json.dumps(document).encode())


async def test_each_kind_of_event_lands_in_its_table(
    sink: SinkFactory,
    publisher: EventPublisher,
    telemetry: TelemetryStore,
    topic_routes: dict[str, TableRoute],
    artifacts: ArtifactStore,
    broker: KafkaBroker,
    settings: PlatformSettings,
    unique: str,
) -> None:
    window = TimeWindow(start=START, end=START + timedelta(hours=1))
    reference = TimeWindow(start=START - timedelta(days=1), end=START)
    scope = AlertScope(tenant="acme", model_name="support-bot")
    profile = {"columns": {"prompt": {"mean_chars": 42.5}}, "languages": {"en": 0.9}}
    events: Sequence[tuple[str, object]] = [
        ("inference_completed", inference(1)),
        (
            "feedback",
            FeedbackSubmittedV1(
                feedback_id="f1", request_id="req-1", tenant="acme", score=-1, tags=["rude"], submitted_at=START
            ),
        ),
        (
            "eval_completed",
            EvalCompletedV1(
                eval_id="ev1",
                tenant="acme",
                model_name="support-bot",
                adapter_version="v2",
                dataset="qa",
                dataset_version="abc",
                metrics={"exact_match": 0.75},
                gate_passed=True,
            ),
        ),
        (
            "training_completed",
            TrainingCompletedV1(
                job_id="j1",
                tenant="acme",
                model_name="support-bot",
                base_model="tiny-llama",
                status="succeeded",
                adapter_version="v2",
                adapter=artifact(artifacts, {"weights": 1}),
                metrics={"loss": 0.5},
                duration_seconds=12.5,
            ),
        ),
        (
            "model_lifecycle",
            ModelPromotedV1(
                model_name="support-bot",
                changed_by="evaluator",
                changed_at=START,
                base_model="tiny-llama",
                adapter_version="v2",
                eval_id="ev1",
            ),
        ),
        (
            "model_lifecycle",
            ModelCanaryStartedV1(
                model_name="support-bot",
                changed_by="ops",
                changed_at=START + timedelta(minutes=1),
                base_model="tiny-llama",
                stable_adapter_version="v2",
                candidate_adapter_version="v3",
                candidate_percent=10,
            ),
        ),
        (
            "dataset_profiles",
            DatasetSealedV1(
                name="support",
                version="h1",
                tenant="acme",
                artifact=artifact(artifacts, {"rows": []}),
                rows=10,
                train_rows=8,
                eval_rows=2,
                profile=artifact(artifacts, profile),
            ),
        ),
        (
            "alerts",
            AlertFiredV1(
                alert_id="psi:acme:support-bot",
                detector="input_drift",
                scope=scope,
                value=0.4,
                threshold=0.2,
                current_window=window,
                reference_window=reference,
                at=START,
                severity="warning",
                message="prompt tokens drifted",
            ),
        ),
        (
            "alerts",
            AlertResolvedV1(
                alert_id="psi:acme:support-bot",
                detector="input_drift",
                scope=scope,
                value=0.1,
                threshold=0.2,
                current_window=window,
                at=START + timedelta(hours=1),
            ),
        ),
    ]
    for table, event in events:
        await publisher.publish(event, topic=topic_of(topic_routes, table))  # type: ignore[arg-type]
    # A record that is no valid event goes to the dead-letter topic and holds nothing up.
    dead_letters = dead_letter_topic(DEAD_LETTER_GROUP)
    await create_topics(settings, [NewTopic(dead_letters, 1, 1)])
    bad_topic = topic_of(topic_routes, "feedback")
    await broker.publish(b"{}", topic=bad_topic, key=b"k", headers={"ce_id": f"bad-{unique}"})
    await publisher.publish(inference(2), topic=topic_of(topic_routes, "inference_completed"))

    async with sink(f"sink-{unique}"):
        await stored(telemetry, "inference_completed", 2)
        await stored(telemetry, "alerts", 2)
        await stored(telemetry, "model_lifecycle", 2)
        for table in ("feedback", "eval_completed", "training_completed", "dataset_profiles"):
            await stored(telemetry, table, 1)

    assert telemetry.query("SELECT tenant, model_name, adapter_version, score, tags, correction FROM feedback") == [
        {"tenant": "acme", "model_name": "", "adapter_version": "", "score": -1, "tags": ["rude"], "correction": None}
    ]
    assert telemetry.query("SELECT metrics, gate_passed FROM eval_completed") == [
        {"metrics": {"exact_match": 0.75}, "gate_passed": True}
    ]
    assert telemetry.query(
        "SELECT status, adapter_version, startsWith(adapter_uri, 'file://') AS stored, "
        "metrics, duration_seconds FROM training_completed"
    ) == [
        {
            "status": "succeeded",
            "adapter_version": "v2",
            "stored": 1,
            "metrics": {"loss": 0.5},
            "duration_seconds": 12.5,
        }
    ]
    assert telemetry.query(
        "SELECT action, adapter_version, candidate_adapter_version, candidate_percent, eval_id "
        "FROM model_lifecycle ORDER BY changed_at"
    ) == [
        {
            "action": "promoted",
            "adapter_version": "v2",
            "candidate_adapter_version": "",
            "candidate_percent": None,
            "eval_id": "ev1",
        },
        {
            "action": "canary_started",
            "adapter_version": "v2",
            "candidate_adapter_version": "v3",
            "candidate_percent": 10,
            "eval_id": "",
        },
    ]
    assert telemetry.query(
        "SELECT name, rows, train_rows, eval_rows, "
        "JSONExtractFloat(profile, 'columns', 'prompt', 'mean_chars') AS mean FROM dataset_profiles"
    ) == [{"name": "support", "rows": 10, "train_rows": 8, "eval_rows": 2, "mean": 42.5}]
    assert telemetry.query(
        "SELECT state, detector, severity, tenant, model_name, adapter_version, value, reference_start, enforce "
        "FROM alerts ORDER BY at"
    ) == [
        {
            "state": "fired",
            "detector": "input_drift",
            "severity": "warning",
            "tenant": "acme",
            "model_name": "support-bot",
            "adapter_version": "",
            "value": 0.4,
            "reference_start": "2026-11-21 12:00:00.000",
            "enforce": False,
        },
        {
            "state": "resolved",
            "detector": "input_drift",
            "severity": "",
            "tenant": "acme",
            "model_name": "support-bot",
            "adapter_version": "",
            "value": 0.1,
            "reference_start": None,
            "enforce": False,
        },
    ]
    [dead] = [
        r
        for r in await read_topic(settings.kafka_bootstrap, dead_letters, 10_000, timeout=2)
        if headers_of(r).get("ce_id") == f"bad-{unique}"
    ]
    assert headers_of(dead)["dlq_topic"] == bad_topic
    assert "missing headers" in headers_of(dead)["dlq_reason"]


async def test_a_row_clickhouse_refuses_goes_to_the_dead_letter_topic_as_it_arrived(
    sink: SinkFactory,
    publisher: EventPublisher,
    telemetry: TelemetryStore,
    topic_routes: dict[str, TableRoute],
    settings: PlatformSettings,
    unique: str,
) -> None:
    # An ops team's constraint on the table, which the event schema knows nothing of: ClickHouse refuses
    # the whole block, and the sink finds the bad row by inserting row by row.
    telemetry.command("ALTER TABLE inference_completed ADD CONSTRAINT sane_prompts CHECK prompt_tokens < 100000")
    refused = inference(3).model_copy(update={"prompt_tokens": 250_000, "request_id": f"refused-{unique}"})
    topic = topic_of(topic_routes, "inference_completed")
    dead_letters = dead_letter_topic(DEAD_LETTER_GROUP)
    await create_topics(settings, [NewTopic(dead_letters, 1, 1)])
    for event in (inference(1), refused, inference(2)):
        await publisher.publish(event, topic=topic)

    async with sink(f"sink-{unique}"):
        await stored(telemetry, "inference_completed", 2)
        await committed_to_end(settings, topic, f"sink-{unique}")

    assert telemetry.query("SELECT request_id FROM inference_completed ORDER BY request_id") == [
        {"request_id": "req-1"},
        {"request_id": "req-2"},
    ]
    [dead] = [
        r
        for r in await read_topic(settings.kafka_bootstrap, dead_letters, 10_000, timeout=2)
        if headers_of(r).get("dlq_topic") == topic
    ]
    assert json.loads(dead.value or b"")["request_id"] == f"refused-{unique}"
    assert dead.key == f"refused-{unique}".encode()
    assert headers_of(dead)["ce_type"] == "llmops.inference.completed.v1"
    assert "sane_prompts" in headers_of(dead)["dlq_reason"]


async def test_a_row_keeps_the_envelopes_id_and_time_to_the_millisecond(
    sink: SinkFactory,
    telemetry: TelemetryStore,
    topic_routes: dict[str, TableRoute],
    broker: KafkaBroker,
    settings: PlatformSettings,
    unique: str,
) -> None:
    topic = topic_of(topic_routes, "inference_completed")
    dead_letters = dead_letter_topic(DEAD_LETTER_GROUP)
    await create_topics(settings, [NewTopic(dead_letters, 1, 1)])
    times = {
        f'{unique}-"quoted"': "2026-11-22T12:00:00.123456+02:00",
        f"{unique}-naive": "2026-11-22T12:00:00.5",
        f"{unique}-zulu": "2026-11-22T23:59:59.999Z",
    }
    for n, (event_id, ce_time) in enumerate(times.items()):
        headers = {
            "ce_id": event_id,
            "ce_type": "llmops.inference.completed.v1",
            "ce_source": "test",
            "ce_specversion": "1.0",
            "ce_time": ce_time,
            "content-type": "application/json",
        }
        await broker.publish(inference(n).model_dump_json().encode(), topic=topic, key=b"k", headers=headers)

    async with sink(f"sink-{unique}"):
        await stored(telemetry, "inference_completed", 2)
        await committed_to_end(settings, topic, f"sink-{unique}")

    assert telemetry.query("SELECT event_id, toString(event_time) AS t FROM inference_completed ORDER BY t") == [
        {"event_id": f'{unique}-"quoted"', "t": "2026-11-22 10:00:00.123"},
        {"event_id": f"{unique}-zulu", "t": "2026-11-22 23:59:59.999"},
    ]
    # A time without an offset is no RFC 3339 time: it could be read in any zone.
    [dead] = [
        r
        for r in await read_topic(settings.kafka_bootstrap, dead_letters, 10_000, timeout=2)
        if headers_of(r).get("ce_id") == f"{unique}-naive"
    ]
    assert "no UTC offset" in headers_of(dead)["dlq_reason"]
