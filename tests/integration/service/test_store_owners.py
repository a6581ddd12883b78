"""The services that own a store open it at start, report it in `/readyz`, and close it at stop."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from llmops_common.storage.telemetry import open_telemetry_store
from services.monitor.app import create_app as create_monitor_app
from services.monitor.settings import Settings as MonitorSettings
from services.rag_retriever.app import create_app as create_retriever_app
from services.rag_retriever.engines.opening import EDGE_FOLDER
from services.rag_retriever.settings import Settings as RetrieverSettings


def test_monitor_reports_clickhouse_and_applies_migrations(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = MonitorSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path, clickhouse_url=None)
    with TestClient(create_monitor_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "kafka": "ok",
        "clickhouse": "ok",
        "replica:llmops.auth.keys": "ok",
        "replica:llmops.models.lifecycle": "ok",
        "telemetry_sink": "ok",
    }
    # Closed at stop: the folder opens again, with the migrations recorded.
    store = open_telemetry_store(settings, settings.state_dir, migrate=False)
    try:
        applied = store.query("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        store.close()
    assert applied[0]["version"] == 1


def test_retriever_reports_its_vector_index(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = RetrieverSettings(kafka_bootstrap=kafka_bootstrap, data_dir=tmp_path, qdrant_url=None)
    with TestClient(create_retriever_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"kafka": "ok", "vector_index": "ok"}
    assert (settings.state_dir / EDGE_FOLDER).is_dir()
