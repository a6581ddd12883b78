"""The ingestion service on the real broker: records in over HTTP and Kafka, clean documents out."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmops_common.kafka.broker import build_broker
from llmops_common.settings import PlatformSettings
from llmops_common.topics import DATA_DOCUMENTS, dead_letter_topic
from services.ingestion.app import create_app
from services.ingestion.settings import Settings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.topic_reader import headers_of, read_topic

TEXT = "Our support desk answers every ticket within one business day, including weekends and holidays."


def document(record_id: str, text: str) -> dict[str, Any]:
    return {"record_id": record_id, "source": "helpdesk", "kind": "document", "text": text}


async def wait_for(bootstrap: str, topic: str, matches: Any, count: int, timeout: float = 15.0) -> list[Any]:
    """The records of `topic` that `matches`, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in await read_topic(bootstrap, topic, 100_000, timeout=1.0) if matches(r)]
        if len(found) >= count or time.monotonic() > deadline:
            return found


@pytest.fixture
async def token(settings: PlatformSettings, unique: str) -> str:
    return await publish_api_key(settings, f"t-{unique}", "data")


@pytest.fixture
def ingestion(settings: PlatformSettings, tmp_path: Path, token: str) -> Iterator[TestClient]:
    service_settings = Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "ingestion", "ingest_max_batch_records": 10}
    )
    with TestClient(create_app(service_settings)) as client:
        yield client


async def test_a_batch_comes_out_as_clean_deduplicated_redacted_documents(
    ingestion: TestClient, token: str, settings: PlatformSettings, unique: str
) -> None:
    records = [
        document("a", f"{TEXT} Write to help@example.com for anything else."),
        document("b", f"{TEXT} Write to help@example.com for anything else."),  # an exact duplicate
        document("c", "   "),  # empty once normalised
        {
            "record_id": "d",
            "source": "chat",
            "kind": "example",
            "dataset": "support",
            "prompt": "How fast is support?",
            "completion": "Within one business day.",
        },
    ]

    response = ingestion.post("/v1/ingest", json={"records": records}, headers=bearer(token))

    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 4, "record_ids": ["a", "b", "c", "d"]}
    tenant = f"t-{unique}"
    documents = await wait_for(
        settings.kafka_bootstrap, DATA_DOCUMENTS.name, lambda r: json.loads(r.value)["tenant"] == tenant, count=1
    )
    [only] = [json.loads(record.value) for record in documents]
    assert only["text"] == f"{TEXT} Write to [EMAIL] for anything else."
    assert only["version"] == 1
    assert headers_of(documents[0])["ce_type"] == "llmops.data.document.ingested.v1"
    rejects = ingestion.get("/v1/rejects", headers=bearer(token)).json()
    assert [(r["record_id"], r["reason"]) for r in rejects] == [("c", "empty")]


async def test_bad_batches_are_refused_and_a_malformed_raw_record_is_dead_lettered(
    ingestion: TestClient, token: str, settings: PlatformSettings, unique: str
) -> None:
    too_many = ingestion.post(
        "/v1/ingest", json={"records": [document(f"r{n}", TEXT) for n in range(11)]}, headers=bearer(token)
    )
    invalid = ingestion.post(
        "/v1/ingest", json={"records": [{"record_id": "x", "source": "s", "kind": "document"}]}, headers=bearer(token)
    )
    unknown_field = ingestion.post(
        "/v1/ingest", json={"records": [{**document("y", TEXT), "oops": 1}]}, headers=bearer(token)
    )

    assert too_many.status_code == 413
    assert too_many.json()["error"]["detail"] == {"limit_records": 10}
    assert invalid.status_code == 422
    assert "a document record needs `text`" in invalid.text
    assert unknown_field.status_code == 422
    assert ingestion.post("/v1/ingest", json={"records": [document("z", TEXT)]}).status_code == 401

    key = f"garbage-{unique}".encode()
    broker = build_broker(settings, client_id="test")
    await broker.connect()
    try:
        await broker.publish(b"not an event", topic="llmops.data.raw", key=key)
    finally:
        await broker.stop()
    dead = await wait_for(settings.kafka_bootstrap, dead_letter_topic("ingestion"), lambda r: r.key == key, count=1)
    assert headers_of(dead[0])["dlq_error_class"] == "InvalidEventError"
