"""The monitor's ops SQL endpoint refuses, with 422 and the reason, queries that reach past the store.

Each hole was confirmed on the endpoint before the fix: `file()` read any file (the admin dev key), a `#`
comment hid a second statement or an `INTO OUTFILE` from the splitter, table functions reached the network
and a `SETTINGS` clause could be sent along. The route runs here over a real, migrated chdb store.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from llmops_common.auth.api_keys import issue_key
from llmops_common.auth.keyring import KeyRing
from llmops_common.service.http_errors import install_error_handlers
from llmops_common.settings import PlatformSettings
from llmops_common.storage.chdb_store import ChdbTelemetryStore
from llmops_common.storage.migrations import apply_migrations, load_migrations
from services.monitor.settings import Settings
from services.monitor.sql_api import router

PLANTED = "planted-secret-4f1d"


@dataclass(frozen=True)
class Deps:
    """What the SQL route reads from the monitor's deps."""

    settings: Settings
    telemetry: ChdbTelemetryStore
    keyring: KeyRing
    sql_slots: asyncio.Semaphore


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ops-sql")


@pytest.fixture(scope="module")
def store(workdir: Path) -> Iterator[ChdbTelemetryStore]:
    # chdb holds one folder per process, so the module shares one store and closes it at the end.
    telemetry = ChdbTelemetryStore(workdir / "clickhouse")
    apply_migrations(telemetry, load_migrations(PlatformSettings().clickhouse_migrations_dir))
    yield telemetry
    telemetry.close()


@pytest.fixture
def secret_file(workdir: Path) -> Path:
    path = workdir / "dev-key.json"
    path.write_text(f'{{"key": "{PLANTED}"}}\n')
    return path


def serve(store: ChdbTelemetryStore, tmp_path: Path, slots: int = 4) -> tuple[TestClient, str]:
    """The SQL route over `store`, and an admin key it takes."""
    keyring = KeyRing()
    token, event = issue_key("acme", roles=["admin"], issued_by="ops")
    keyring.apply(event)
    deps = Deps(Settings(data_dir=tmp_path), store, keyring, asyncio.Semaphore(slots))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Deps]]:
        yield {"deps": deps}

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(router)
    return TestClient(app), token


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
