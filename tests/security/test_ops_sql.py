"""The monitor's ops SQL endpoint refuses, with 422 and the reason, queries that reach past the store.

Each hole was confirmed on the endpoint before the fix: `file()` read any file (the admin dev key), a `#`
comment hid a second statement or an `INTO OUTFILE` from the splitter, table functions reached the network
and a `SETTINGS` clause could be sent along. The route runs here over a real, migrated chdb store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from llmops_common.local_kafka import free_port
from llmops_common.storage.chdb_store import ChdbTelemetryStore
from services.monitor.sql_api import MAX_QUERY_BYTES
from tests.security.monitor_harness import deps_over, issue, migrated_store, monitor_app, monitor_client
from tests.support.uvicorn_thread import serving

PLANTED = "planted-secret-4f1d"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ops-sql")


@pytest.fixture(scope="module")
def store(workdir: Path) -> Iterator[ChdbTelemetryStore]:
    # chdb holds one folder per process, so the module shares one store and closes it at the end.
    telemetry = migrated_store(workdir / "clickhouse")
    yield telemetry
    telemetry.close()


@pytest.fixture
def secret_file(workdir: Path) -> Path:
    path = workdir / "dev-key.json"
    path.write_text(f'{{"key": "{PLANTED}"}}\n')
    return path


def serve(store: ChdbTelemetryStore, tmp_path: Path, slots: int = 4) -> tuple[TestClient, str]:
    """The monitor's routes over `store`, and an admin key of a tenant they take."""
    deps = deps_over(store, tmp_path, slots=slots)
    return monitor_client(deps), issue(deps.keyring, "acme", "admin")


@pytest.fixture
def sql(store: ChdbTelemetryStore, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    client, token = serve(store, tmp_path)
    with client:
        yield client, token


def post(sql: tuple[TestClient, str], query: str) -> tuple[int, dict[str, object] | str]:
    client, token = sql
    response = client.post("/", content=query.encode(), auth=("ops", token))
    is_json = response.headers.get("content-type", "").startswith("application/json")
    return response.status_code, response.json()["error"] if is_json else response.text


def test_a_select_on_the_telemetry_tables_still_answers(sql: tuple[TestClient, str]) -> None:
    assert post(sql, "SELECT count() FROM inference_completed -- all of it") == (200, "0\n")
    status, body = post(sql, "WITH 2 AS n SELECT number * n FROM numbers(3) FORMAT CSV")
    assert (status, body) == (200, "0\n2\n4\n")


@pytest.mark.parametrize("function", ["file", "FILE", "`file`"])
def test_scalar_file_is_refused_and_reads_nothing(
    sql: tuple[TestClient, str], secret_file: Path, function: str
) -> None:
    status, body = post(sql, f"SELECT {function}('{secret_file}')")

    assert status == 422
    assert isinstance(body, dict)
    assert body["code"] == "sql_refused"
    assert "function file" in str(body["message"]).lower()
    assert PLANTED not in str(body)


def test_a_hash_comment_cannot_hide_a_second_statement(sql: tuple[TestClient, str], store: ChdbTelemetryStore) -> None:
    status, body = post(sql, "SELECT 1 # '\n; CREATE TABLE pwned (x UInt8) ENGINE = Memory")

    assert status == 422
    assert "exactly one statement" in str(body)
    assert store.query("EXISTS TABLE pwned") == [{"result": 0}]


def test_a_hash_comment_cannot_hide_into_outfile(sql: tuple[TestClient, str], workdir: Path) -> None:
    target = workdir / "written"

    status, body = post(sql, f"SELECT 'x' # '\nINTO OUTFILE '{target}' # '")

    assert status == 422
    assert "INTO OUTFILE" in str(body)
    assert not target.exists()


@pytest.mark.parametrize(
    ("query", "function"),
    [
        ("SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a String')", "url"),
        ("SELECT * FROM remote('127.0.0.1:9', system.one)", "remote"),
        ("SELECT * FROM s3('http://127.0.0.1:9/b/k.csv', CSV, 'a String')", "s3"),
        ("SELECT * FROM executable('id', TSV, 'a String')", "executable"),
        ("SELECT * FROM (SELECT 1) AS t JOIN postgresql('h:5432', 'd', 't', 'u', 'p') AS p ON 1", "postgresql"),
        ("SELECT dictGet('secrets', 'value', 1)", "dictGet"),
    ],
)
def test_functions_that_reach_the_network_or_processes_are_refused(
    sql: tuple[TestClient, str], query: str, function: str
) -> None:
    status, body = post(sql, query)

    assert status == 422
    assert f"function {function} is not served" in str(body)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT number FROM numbers(10) SETTINGS max_result_rows = 1000000000",
        "SELECT 1 FORMAT CSV SETTINGS readonly = 0",
    ],
)
def test_a_settings_clause_cannot_lift_the_limits(sql: tuple[TestClient, str], query: str) -> None:
    status, body = post(sql, query)

    assert status == 422
    assert "SETTINGS clauses are not served" in str(body)


def test_the_limits_hold_on_every_query(sql: tuple[TestClient, str]) -> None:
    status, body = post(sql, "SELECT number FROM numbers(1000000)")

    assert status == 400
    assert "Limit for result exceeded" in str(body)


def test_queries_beyond_the_concurrency_cap_are_429(store: ChdbTelemetryStore, tmp_path: Path) -> None:
    client, token = serve(store, tmp_path, slots=0)
    with client:
        response = client.post("/", content=b"SELECT 1", auth=("ops", token))

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_requests"


def running(store: ChdbTelemetryStore, marker: str) -> bool:
    """Whether a query whose text holds `marker` is running; asked on the store's own connection."""
    rows = store.query(
        "SELECT count() AS n FROM system.processes WHERE position(query, {marker:String}) > 0 "
        "AND position(query, 'system.processes') = 0",
        {"marker": marker},
    )
    return bool(rows[0]["n"])


def test_a_slow_query_does_not_hold_up_telemetry_inserts(
    sql: tuple[TestClient, str], store: ChdbTelemetryStore
) -> None:
    done: list[str] = []

    def slow_query() -> None:
        status, _ = post(sql, "SELECT 'slow-marker', count() FROM numbers(10) WHERE sleepEachRow(0.25) = 0")
        done.append(f"query answered {status}")

    thread = threading.Thread(target=slow_query)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        # Before the fix, each look waited for the query to end, and then found it gone.
        while not running(store, "slow-marker"):
            assert time.monotonic() < deadline, "the slow query was never seen running"
            time.sleep(0.02)
        store.insert_json_lines(
            "detector_measurements",
            b'{"measured_at": "2026-11-22 12:00:00", "detector": "latency", "metric": "p95", "value": 1,'
            b' "current_start": "2026-11-22 11:00:00", "current_end": "2026-11-22 12:00:00"}\n',
        )
        done.append("inserted")
    finally:
        thread.join(timeout=60)

    assert done == ["inserted", "query answered 200"]


def test_the_output_streams_to_the_client_while_the_query_runs(store: ChdbTelemetryStore, tmp_path: Path) -> None:
    deps = deps_over(store, tmp_path, slots=1, sql_max_result_rows=100_000_000, sql_max_result_bytes=1 << 31)
    key = issue(deps.keyring, "acme", "admin")
    # About 1 GB of output: far more than the monitor may hold, or the sockets buffer.
    query = b"SELECT number, 'stream-marker' FROM numbers(50000000)"
    with serving(monitor_app(deps), free_port(), "monitor") as url:
        with httpx.stream("POST", f"{url}/", content=query, auth=("ops", key), timeout=60) as response:
            assert response.status_code == 200
            first = next(response.iter_bytes())
            assert first.startswith(b"0\tstream-marker\n1\tstream-marker\n")
            # Before the fix, the whole output was built before the response began.
            assert running(store, "stream-marker")

        # The client went away: the query is cancelled and its slot (the only one) is free again.
        deadline = time.monotonic() + 30
        while (
            running(store, "stream-marker")
            or httpx.post(url, content=b"SELECT 1", auth=("ops", key)).status_code == 429
        ):
            assert time.monotonic() < deadline, "the abandoned query kept running"
            time.sleep(0.05)
        assert httpx.post(url, content=b"SELECT 1", auth=("ops", key)).text == "1\n"


def test_a_query_body_over_the_cap_is_refused_while_it_streams_in(sql: tuple[TestClient, str]) -> None:
    client, token = sql
    sent = 0

    def endless_comment() -> Iterator[bytes]:
        nonlocal sent
        yield b"SELECT 1 -- "
        while sent < 64 * MAX_QUERY_BYTES:  # far more than anybody should send
            sent += 64 * 1024
            yield b"x" * 64 * 1024

    response = client.post("/", content=endless_comment(), auth=("ops", token))

    assert response.status_code == 413
    assert response.json()["error"]["detail"] == {"limit_bytes": MAX_QUERY_BYTES}
