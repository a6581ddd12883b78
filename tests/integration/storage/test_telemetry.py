"""The telemetry store's contract, run alike on chdb and on a ClickHouse server: same SQL, same rows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from llmops_common.events import InferenceCompletedV1
from llmops_common.local_kafka import free_port
from llmops_common.settings import REPO_ROOT, PlatformSettings
from llmops_common.storage.errors import MigrationError, StoreUnavailableError, TelemetryQueryError
from llmops_common.storage.migrations import apply_migrations, load_migrations
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store
from tests.integration.storage.conftest import TelemetryTarget

START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MODELS = ("llama-3b", "qwen-7b")
TENANTS = ("acme", "globex")


def inference_row(n: int) -> dict[str, Any]:
    """Event `n` as the monitor will store it: the event's JSON plus its envelope's id and time."""
    event = InferenceCompletedV1(
        request_id=f"req-{n}",
        tenant=TENANTS[n % 2],
        model_name=MODELS[n // 2 % 2],
        base_model="base",
        prompt_tokens=n % 40,
        completion_tokens=n % 60,
        latency_ms=(n % 50) * 0.25,
        status="error" if n % 10 == 0 else "ok",
        http_status=500 if n % 10 == 0 else 200,
        started_at=START + timedelta(seconds=n),
    )
    return {
        "event_id": f"evt-{n}",
        "event_time": START + timedelta(seconds=n, milliseconds=250),
        **event.model_dump(mode="json"),
    }


def count(store: TelemetryStore, sql: str = "SELECT count() AS n FROM inference_completed") -> int:
    return int(store.query(sql)[0]["n"])


def test_migrations_make_the_event_table_and_record_themselves(telemetry: TelemetryStore) -> None:
    migrations = load_migrations(REPO_ROOT / "infra" / "clickhouse")

    assert migrations[0].name == "inference_completed"
    assert telemetry.query("SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version") == [
        {"version": migration.version, "name": migration.name, "checksum": migration.checksum}
        for migration in migrations
    ]
    columns = telemetry.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}",
        {"table": "inference_completed"},
    )
    assert {row["name"] for row in columns} == set(InferenceCompletedV1.model_fields) | {"event_id", "event_time"}


def test_reopening_applies_nothing_again_and_keeps_the_rows(telemetry_target: TelemetryTarget) -> None:
    store = telemetry_target.open()
    store.insert_rows("inference_completed", [inference_row(n) for n in range(5)])
    store.close()

    reopened = telemetry_target.open()
    migrations = load_migrations(telemetry_target.settings.clickhouse_migrations_dir)

    assert apply_migrations(reopened, migrations) == []
    assert count(reopened) == 5
    assert count(reopened, "SELECT count() AS n FROM schema_migrations") == len(migrations)


def test_a_new_migration_applies_on_top_and_an_edited_one_is_refused(
    telemetry_target: TelemetryTarget, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(telemetry_target.settings.clickhouse_migrations_dir, folder)
    telemetry_target.open(clickhouse_migrations_dir=folder).close()
    (folder / "9002_daily_cost.sql").write_text(
        "-- two statements in one file\n"
        "CREATE TABLE IF NOT EXISTS daily_cost (day Date, tenant String) ENGINE = MergeTree ORDER BY day;\n"
        "ALTER TABLE daily_cost ADD COLUMN IF NOT EXISTS cost_usd Float64;\n"
    )

    store = telemetry_target.open(clickhouse_migrations_dir=folder)
    versions = [row["version"] for row in store.query("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[0] == 1
    assert versions[-1] == 9002
    assert store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'daily_cost' ORDER BY position"
    ) == [
        {"name": "day", "type": "Date"},
        {"name": "tenant", "type": "String"},
        {"name": "cost_usd", "type": "Float64"},
    ]
    store.close()

    (folder / "9002_daily_cost.sql").write_text(
        "CREATE TABLE IF NOT EXISTS daily_cost (day Date) ENGINE = MergeTree ORDER BY day;\n"
    )
    with pytest.raises(MigrationError, match=r"9002_daily_cost changed after it was applied"):
        telemetry_target.open(clickhouse_migrations_dir=folder)


def test_a_batch_of_a_thousand_events_is_one_insert_and_aggregates_exactly(telemetry: TelemetryStore) -> None:
    rows = [inference_row(n) for n in range(1000)]

    assert telemetry.insert_rows("inference_completed", rows) == 1000

    parts = telemetry.query(
        "SELECT count() AS n, sum(rows) AS rows FROM system.parts WHERE active "
        "AND database = currentDatabase() AND table = 'inference_completed'"
    )
    assert parts == [{"n": 1, "rows": 1000}]
    since = START + timedelta(seconds=100)
    totals = telemetry.query(
        """
        SELECT model_name, count() AS requests, sum(prompt_tokens + completion_tokens) AS tokens,
               sum(latency_ms) AS latency_ms, countIf(status = 'error') AS errors
        FROM inference_completed
        WHERE tenant = {tenant:String} AND event_time >= {since:DateTime64(3, 'UTC')}
        GROUP BY model_name ORDER BY model_name
        """,
        {"tenant": "acme", "since": since},
    )
    chosen = [row for row in rows if row["tenant"] == "acme" and row["event_time"] >= since]
    assert totals == [
        {
            "model_name": model,
            "requests": len(of_model),
            "tokens": sum(r["prompt_tokens"] + r["completion_tokens"] for r in of_model),
            "latency_ms": sum(r["latency_ms"] for r in of_model),
            "errors": sum(r["status"] == "error" for r in of_model),
        }
        for model in MODELS
        if (of_model := [r for r in chosen if r["model_name"] == model])
    ]


def test_rows_read_back_as_stored(telemetry: TelemetryStore) -> None:
    telemetry.insert_rows("inference_completed", [inference_row(7)])

    [row] = telemetry.query(
        "SELECT event_time, started_at, adapter_version, time_to_first_token_ms, prompt_version, text_capture "
        "FROM inference_completed WHERE request_id IN {ids:Array(String)}",
        {"ids": ["req-7", "req-x"]},
    )
    assert row == {
        "event_time": "2026-11-22 08:00:07.250",
        "started_at": "2026-11-22 08:00:07.000",
        "adapter_version": "",
        "time_to_first_token_ms": None,
        "prompt_version": None,
        "text_capture": "redacted",
    }


def test_parameters_carry_awkward_values_unchanged(telemetry: TelemetryStore) -> None:
    awkward = "it's a\ttab, a \\ backslash,\na newline and {braces}"
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    rows = telemetry.query(
        "SELECT {text:String} AS text, {items:Array(String)} AS items, {moment:DateTime64(6, 'UTC')} AS moment, "
        "{missing:Nullable(UInt32)} AS missing, {flag:Bool} AS flag, {big:UInt64} AS big",
        {"text": awkward, "items": [awkward, "b"], "moment": moment, "missing": None, "flag": True, "big": 2**64 - 1},
    )

    assert rows == [
        {
            "text": awkward,
            "items": [awkward, "b"],
            "moment": "2026-01-02 03:04:05.678901",
            "missing": None,
            "flag": True,
            "big": 2**64 - 1,
        }
    ]


def test_a_redelivered_event_folds_into_one_row(telemetry: TelemetryStore) -> None:
    batch = [inference_row(n) for n in range(10)]
    telemetry.insert_rows("inference_completed", batch)
    telemetry.insert_rows("inference_completed", batch[:3])

    assert count(telemetry) == 13
    assert count(telemetry, "SELECT count() AS n FROM inference_completed FINAL") == 10


def test_an_empty_batch_inserts_nothing(telemetry: TelemetryStore) -> None:
    assert telemetry.insert_rows("inference_completed", []) == 0
    assert count(telemetry) == 0


@pytest.mark.parametrize(
    ("sql", "parameters", "message"),
    [
        ("SELECT no_such_column FROM inference_completed", None, "no_such_column"),
        ("SELECT {n:UInt8} AS n", {"n": "x"}, "cannot be parsed as UInt8"),
        ("SELECT {n:UInt8} AS n", None, "n"),
    ],
)
def test_a_rejected_statement_is_a_telemetry_query_error(
    telemetry: TelemetryStore, sql: str, parameters: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(TelemetryQueryError, match=message):
        telemetry.query(sql, parameters)


def test_a_row_of_the_wrong_shape_is_a_telemetry_query_error(telemetry: TelemetryStore) -> None:
    with pytest.raises(TelemetryQueryError):
        telemetry.insert_rows("inference_completed", [{"event_id": "e", "prompt_tokens": "many"}])
    assert count(telemetry) == 0


def test_the_store_answers_its_readiness_check(telemetry: TelemetryStore) -> None:
    assert telemetry.ping() is True


def test_an_unreachable_server_is_unavailable_and_its_password_stays_out_of_the_message(
    store_settings: PlatformSettings, tmp_path: Path
) -> None:
    port = free_port()
    settings = store_settings.model_copy(update={"clickhouse_url": f"http://monitor:s3cret@127.0.0.1:{port}/telemetry"})

    with pytest.raises(StoreUnavailableError) as caught:
        open_telemetry_store(settings, tmp_path / "state")

    assert caught.value.message.startswith(f"ClickHouse at http://127.0.0.1:{port}/telemetry does not answer")
    assert "s3cret" not in caught.value.message
    assert not (tmp_path / "state").exists()
