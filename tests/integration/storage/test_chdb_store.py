"""What is particular to chdb: data in a folder that one process at a time may hold."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmops_common.settings import PlatformSettings
from llmops_common.storage.chdb_connection import STREAMABLE_FORMATS
from llmops_common.storage.chdb_store import ChdbTelemetryStore
from llmops_common.storage.errors import StoreUnavailableError
from llmops_common.storage.telemetry import open_telemetry_store


def open_in_another_process(path: Path) -> str:
    """What a second process says when it opens the chdb folder at `path`."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from llmops_common.storage.chdb_store import ChdbTelemetryStore
        from llmops_common.storage.errors import StoreUnavailableError
        try:
            ChdbTelemetryStore(Path({str(path)!r})).close()
        except StoreUnavailableError as error:
            print("unavailable:", error.message)
        else:
            print("opened")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_the_factory_keeps_chdb_data_under_the_state_folder(store_settings: PlatformSettings, tmp_path: Path) -> None:
    store = open_telemetry_store(store_settings, tmp_path / "state")
    try:
        assert isinstance(store, ChdbTelemetryStore)
        assert store.path == tmp_path / "state" / "clickhouse"
        assert (store.path / "metadata").is_dir()
    finally:
        store.close()


def test_a_second_process_cannot_open_a_held_folder_until_it_is_released(tmp_path: Path) -> None:
    store = ChdbTelemetryStore(tmp_path / "clickhouse")
    try:
        said = open_in_another_process(store.path)
    finally:
        store.close()

    assert said == f"unavailable: chdb cannot open {store.path}: another process (PID: {os.getpid()}) holds it\n"
    assert open_in_another_process(store.path) == "opened\n"


def test_one_process_holds_one_folder_at_a_time(tmp_path: Path) -> None:
    first = ChdbTelemetryStore(tmp_path / "first")
    try:
        with pytest.raises(StoreUnavailableError, match="already initialized"):
            ChdbTelemetryStore(tmp_path / "second")
    finally:
        first.close()
    ChdbTelemetryStore(tmp_path / "second").close()


def test_rows_outlive_closing_the_store(tmp_path: Path) -> None:
    store = ChdbTelemetryStore(tmp_path / "clickhouse")
    store.command("CREATE TABLE kept (n UInt32) ENGINE = MergeTree ORDER BY n")
    store.insert_rows("kept", [{"n": n} for n in range(3)])
    store.close()

    reopened = ChdbTelemetryStore(tmp_path / "clickhouse")
    try:
        assert reopened.query("SELECT sum(n) AS total FROM kept") == [{"total": 3}]
    finally:
        reopened.close()


def test_a_closed_store_is_not_ready_and_refuses_statements(tmp_path: Path) -> None:
    store = ChdbTelemetryStore(tmp_path / "clickhouse")
    store.close()

    assert store.ping() is False
    with pytest.raises(StoreUnavailableError, match="is closed"):
        store.query("SELECT 1")
    with pytest.raises(StoreUnavailableError, match="is closed"):
        store.connect()


@pytest.mark.parametrize("fmt", sorted(STREAMABLE_FORMATS))
def test_a_streamed_query_joins_into_the_whole_output(tmp_path: Path, fmt: str) -> None:
    store = ChdbTelemetryStore(tmp_path / "clickhouse")
    connection = store.connect()
    sql = "SELECT number, toString(number) AS text, [number] AS list FROM numbers({n:UInt32})"
    try:
        whole = connection.query_bytes(sql, fmt, {"n": "200000"})
        blocks = list(connection.stream(sql, fmt, {"n": "200000"}))
    finally:
        connection.close()
        store.close()

    assert len(blocks) > 1
    assert b"".join(blocks) == whole


def test_a_connection_sees_the_stores_rows_and_outlives_it(tmp_path: Path) -> None:
    store = ChdbTelemetryStore(tmp_path / "clickhouse")
    store.command("CREATE TABLE seen (n UInt32) ENGINE = MergeTree ORDER BY n")
    connection = store.connect()
    try:
        store.insert_rows("seen", [{"n": 7}])
        store.close()
        # The connection keeps the folder open, and the session's settings (UTC), until it is closed.
        assert connection.query_bytes("SELECT n, timezone() FROM seen", "TSV") == b"7\tUTC\n"
    finally:
        connection.close()
