"""Stores for the storage tests: telemetry on chdb and, when one is named, on a ClickHouse server;
S3 on a moto server; all other state in the test's own folder."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from moto.server import ThreadedMotoServer

from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from llmops_common.storage.telemetry import TelemetryStore, open_telemetry_store

CLICKHOUSE_URL_VARIABLE = "LLMOPS_TEST_CLICKHOUSE_URL"


@pytest.fixture
def store_settings(tmp_path: Path) -> PlatformSettings:
    """Settings whose stores are all embedded under this test's folder, whatever the environment says."""
    return PlatformSettings(
        data_dir=tmp_path / "data", clickhouse_url=None, qdrant_url=None, artifact_url=None, s3_endpoint_url=None
    )


@dataclass
class TelemetryTarget:
    """Where a test's telemetry store lives. `open` may be called again to reopen it; every store it
    opened is closed after the test."""

    backend: str
    settings: PlatformSettings
    state_dir: Path
    opened: list[TelemetryStore] = field(default_factory=list)

    def open(self, **overrides: object) -> TelemetryStore:
        store = open_telemetry_store(self.settings.model_copy(update=overrides), self.state_dir)
        self.opened.append(store)
        return store


@contextlib.contextmanager
def clickhouse_database(base_url: str) -> Iterator[str]:
    """A database of the test's own on the server at `base_url`; yields a URL that selects it."""
    import clickhouse_connect

    name = f"llmops_test_{uuid.uuid4().hex[:12]}"
    admin = clickhouse_connect.get_client(dsn=base_url)
    admin.command(f"CREATE DATABASE {name}")
    try:
        yield urlparse(base_url)._replace(path=f"/{name}").geturl()
    finally:
        admin.command(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture(params=["chdb", "clickhouse-server"])
def telemetry_target(
    request: pytest.FixtureRequest, store_settings: PlatformSettings, tmp_path: Path
) -> Iterator[TelemetryTarget]:
    """The same tests against chdb in a folder and against a ClickHouse server, in a database of their own."""
    with contextlib.ExitStack() as stack:
        settings = store_settings
        if request.param == "clickhouse-server":
            base_url = os.environ.get(CLICKHOUSE_URL_VARIABLE)
            if not base_url:
                pytest.skip(f"no ClickHouse server: set {CLICKHOUSE_URL_VARIABLE}=http://user:password@host:8123")
            database_url = stack.enter_context(clickhouse_database(base_url))
            settings = settings.model_copy(update={"clickhouse_url": database_url})
        target = TelemetryTarget(request.param, settings, tmp_path / "state")
        yield target
        for store in target.opened:
            store.close()


@pytest.fixture
def telemetry(telemetry_target: TelemetryTarget) -> TelemetryStore:
    """A migrated telemetry store of the test's own."""
    return telemetry_target.open()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on a free port for the whole session."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(moto_endpoint: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """A new bucket on the moto server, and a boto3 client to look inside it."""
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    bucket = f"artifacts-{unique}"
    client.create_bucket(Bucket=bucket)
    yield bucket, client
    client.close()
