"""The rollup repair on the migrated embedded chDB: a day whose rollup rows a crash lost is rebuilt from
its raw rows, exactly once, and no other day is touched."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.envelope import Envelope
from llmops_common.storage.artifacts import ArtifactStore
from llmops_common.storage.telemetry import TelemetryStore
from services.monitor.rollup_repair import ROLLUPS, Rollup, RollupRepair, RollupViewError
from services.monitor.sink_runner import profile_reader
from services.monitor.telemetry_rows import telemetry_routes
from tests.integration.monitor.conftest import START, inference

MIGRATIONS = Path(__file__).resolve().parents[3] / "infra" / "clickhouse"


def store_raw(store: TelemetryStore, artifacts: ArtifactStore, events: list[InferenceCompletedV1]) -> None:
    """Inserts the events' rows into inference_completed, as the sink does; the views fill the rollups."""
    route = next(r for r in telemetry_routes(profile_reader(artifacts)).values() if r.table == "inference_completed")
    lines = [
        route.row_line(
            Envelope(f"event-{event.request_id}", "inference.completed.v1", "/test", event.started_at), event
        )
        for event in events
    ]
    store.insert_json_lines("inference_completed", b"".join(lines))


def totals(store: TelemetryStore) -> dict[str, tuple[object, ...]]:
    """Requests, errors, tokens and cost per day in each rollup, and the latency median per minute."""
    minute = store.query(
        "SELECT toDate(minute) AS day, sum(requests) AS requests, sum(errors) AS errors,"
        " sum(prompt_tokens) AS tokens, round(sum(cost_usd), 6) AS cost FROM inference_minute GROUP BY day"
    )
    daily = store.query(
        "SELECT day, sum(requests) AS requests, round(sum(cost_usd), 6) AS cost FROM cost_daily GROUP BY day"
    )
    median = store.query(
        "SELECT minute, quantileTDigestMerge(0.5)(latency_ms) AS p50 FROM inference_minute GROUP BY minute"
    )
    return {
        "minute": tuple(sorted(tuple(row.values()) for row in minute)),
        "daily": tuple(sorted(tuple(row.values()) for row in daily)),
        "p50": tuple(sorted(tuple(row.values()) for row in median)),
    }


@pytest.fixture
def two_days(telemetry: TelemetryStore, artifacts: ArtifactStore) -> list[InferenceCompletedV1]:
    """120 requests on the first day and 60 on the next, stored with their rollups."""
    first = [inference(n) for n in range(120)]
    second = [inference(n).model_copy(update={"started_at": START + timedelta(days=1, seconds=n)}) for n in range(60)]
    second = [event.model_copy(update={"request_id": f"next-{event.request_id}"}) for event in second]
    store_raw(telemetry, artifacts, first + second)
    return first + second


def lose_rollup_rows_of_first_day(store: TelemetryStore) -> None:
    """What a SIGKILL between the raw insert and its views leaves: raw rows that no rollup counts."""
    day = {"day": START.date()}
    store.command("DELETE FROM inference_minute WHERE toDate(minute) = {day:Date}", day)
    store.command("DELETE FROM cost_daily WHERE day = {day:Date}", day)


def test_a_day_that_lost_its_rollup_rows_is_rebuilt_from_its_raw_rows(
    telemetry: TelemetryStore, two_days: list[InferenceCompletedV1]
) -> None:
    whole = totals(telemetry)
    assert sum(row[1] for row in whole["daily"]) == len(two_days)
    lose_rollup_rows_of_first_day(telemetry)
    assert totals(telemetry) != whole

    RollupRepair(telemetry).repair("inference_completed", [START.date()])

    assert totals(telemetry) == whole


def test_rebuilding_a_whole_day_counts_each_raw_row_once(
    telemetry: TelemetryStore, two_days: list[InferenceCompletedV1]
) -> None:
    whole = totals(telemetry)
    next_day = (START + timedelta(days=1)).date()

    # Each day twice, in two processes: the rebuilt blocks are equal, and none is taken for a retry.
    RollupRepair(telemetry).repair("inference_completed", [START.date(), next_day, START.date()])
    RollupRepair(telemetry).repair("inference_completed", [START.date(), next_day])

    assert totals(telemetry) == whole


def test_a_process_rebuilds_a_day_once_and_leaves_other_tables_alone(
    telemetry: TelemetryStore, two_days: list[InferenceCompletedV1]
) -> None:
    whole = totals(telemetry)
    repair = RollupRepair(telemetry)
    repair.repair("inference_completed", [START.date()])
    repair.repair("feedback", [START.date()])  # a raw table without rollups

    lose_rollup_rows_of_first_day(telemetry)
    repair.repair("inference_completed", [START.date()])

    assert totals(telemetry) != whole, "the day was rebuilt a second time by the same process"


def test_a_view_of_another_shape_is_refused_with_its_name(telemetry: TelemetryStore) -> None:
    telemetry.command(
        "CREATE MATERIALIZED VIEW odd_mv TO cost_daily AS SELECT toDate(event_time) AS day, tenant,"
        " model_name, toUInt64(count()) AS requests FROM inference_completed GROUP BY day, tenant, model_name"
    )
    odd = Rollup("cost_daily", "odd_mv", "day")

    with pytest.raises(RollupViewError, match="odd_mv must read `FROM inference_completed AS src`"):
        RollupRepair(telemetry)._rebuild("inference_completed", odd, START.date())


def test_every_materialized_view_of_the_migrations_is_a_known_rollup() -> None:
    defined = {
        (view, target, source)
        for sql in MIGRATIONS.glob("*.sql")
        for view, target, source in re.findall(
            r"CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS.*?FROM (\w+) AS src", sql.read_text(), re.S
        )
    }
    known = {(rollup.view, rollup.table, source) for source, rollups in ROLLUPS.items() for rollup in rollups}
    views_in_sql = len(
        re.findall(r"CREATE MATERIALIZED VIEW", "".join(p.read_text() for p in MIGRATIONS.glob("*.sql")))
    )

    assert defined == known
    assert views_in_sql == len(known)
