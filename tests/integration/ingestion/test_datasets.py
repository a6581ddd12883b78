"""Datasets on the real broker: examples in, a sealed version out with its profile and lineage, sealing
again changes nothing, erasure leaves the next version without the subject, and the size policy seals."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from llmops_common.events import ArtifactRef, DatasetSealedV1
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from llmops_common.topics import DATA_DATASETS, DATA_ERASURES
from services.ingestion.app import create_app
from services.ingestion.settings import Settings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.topic_reader import read_topic


def example(record_id: str, prompt: str, completion: str | None, user: str, source: str = "chat") -> dict[str, Any]:
    record: dict[str, Any] = {
        "record_id": record_id,
        "source": source,
        "kind": "example",
        "dataset": "support",
        "prompt": prompt,
        "metadata": {"user_id": user},
    }
    if completion is not None:
        record["completion"] = completion
    return record


RECORDS = [
    example("q1", "How do I reset my password?", "Open Settings, then Security.", "u1"),
    example("q2", "Where do I find my invoices?", "Under Account, then Billing.", "u2"),
    example("q3", "Can I export my data as CSV?", "Yes, from the Reports page.", "u2", source="faq"),
    example("q4", "How do I reset my password?", "Open Settings, then Security.", "u3"),  # exact duplicate of q1
    example("q5", "Who do I email about refunds?", "Write to refunds@example.com any time.", "u3"),
    example("q6", "Is there a mobile app?", None, "u3"),  # no completion: malformed
]


@pytest.fixture
async def token(settings: PlatformSettings, unique: str) -> str:
    return await publish_api_key(settings, f"t-{unique}", "data")


def service_settings(settings: PlatformSettings, data_dir: Path, **overrides: object) -> Settings:
    return Settings(**{**settings.model_dump(), "data_dir": data_dir, **overrides})


@pytest.fixture
def ingestion(settings: PlatformSettings, tmp_path: Path, token: str) -> Iterator[TestClient]:
    with TestClient(create_app(service_settings(settings, tmp_path / "ingestion"))) as client:
        yield client


async def wait_for_records(client: TestClient, token: str, name: str, seen: int, timeout: float = 20.0) -> None:
    """Waits until the pipeline has taken `seen` records for the dataset."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/datasets/{name}", headers=bearer(token))
        if response.status_code == 200 and response.json()["counters"].get("seen", 0) >= seen:
            return
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.1)


async def sealed_events(bootstrap: str, tenant: str, minimum: int = 1) -> list[DatasetSealedV1]:
    deadline = time.monotonic() + 10
    while True:
        records = await read_topic(bootstrap, DATA_DATASETS.name, 100_000, timeout=1.0)
        events = [DatasetSealedV1.model_validate_json(r.value) for r in records]
        found = [event for event in events if event.tenant == tenant]
        if len(found) >= minimum or time.monotonic() > deadline:
            return found


def fetch(settings: Settings, ref: ArtifactRef) -> bytes:
    return open_artifact_store(settings).get_bytes(ref)


async def test_a_sealed_version_carries_its_profile_and_lineage_and_sealing_again_changes_nothing(
    ingestion: TestClient, token: str, settings: PlatformSettings, tmp_path: Path, unique: str
) -> None:
    tenant = f"t-{unique}"
    assert ingestion.post("/v1/ingest", json={"records": RECORDS}, headers=bearer(token)).status_code == 202
    await wait_for_records(ingestion, token, "support", seen=6)

    first = ingestion.post("/v1/datasets/support/seal", headers=bearer(token))

    assert first.status_code == 201, first.text
    sealed = DatasetSealedV1.model_validate(first.json()["sealed"])
    assert (sealed.rows, sealed.train_rows + sealed.eval_rows, sealed.trigger) == (4, 4, "command")
    assert sealed.source_rows == {"chat": 3, "faq": 1}
    profile = sealed.eda_profile
    assert profile is not None
    assert (profile.records_seen, profile.exact_duplicates_removed, profile.near_duplicates_removed) == (6, 1, 0)
    assert profile.rejects["malformed"] == 1
    assert sum(profile.rejects.values()) == 1
    assert profile.pii_hits["EMAIL"] == 1
    assert sum(profile.pii_hits.values()) == 1
    assert profile.tokenizer == "words"
    [total] = [lengths for lengths in profile.token_lengths if lengths.field == "total"]
    assert (total.min, total.max) == (13, 15)  # "How do I reset my password ?" + "Open Settings , then Security ."
    on_disk = service_settings(settings, tmp_path / "ingestion")
    assert json.loads(fetch(on_disk, sealed.profile)) == profile.model_dump(mode="json")  # type: ignore[arg-type]
    lineage = pq.read_table(io.BytesIO(fetch(on_disk, sealed.lineage))).to_pylist()  # type: ignore[arg-type]
    kept = sorted(row["record_id"] for row in lineage)
    # q1 and q4 travel on different partitions: whichever comes first is kept.
    assert kept in (["q1", "q2", "q3", "q5"], ["q2", "q3", "q4", "q5"])
    assert len({row["event_id"] for row in lineage}) == 4
    rows = pq.read_table(io.BytesIO(fetch(on_disk, sealed.artifact))).to_pylist()
    assert sorted(row["completion"] for row in rows)[-1] == "Yes, from the Reports page."
    assert any(row["completion"] == "Write to [EMAIL] any time." for row in rows)

    again = ingestion.post("/v1/datasets/support/seal", headers=bearer(token))

    assert again.status_code == 200
    assert again.json() == {"created": False, "sealed": first.json()["sealed"]}
    events = await sealed_events(settings.kafka_bootstrap, tenant)
    await asyncio.sleep(0.5)
    assert await sealed_events(settings.kafka_bootstrap, tenant) == events == [sealed]
    latest = ingestion.get("/v1/datasets/support/versions/latest", headers=bearer(token))
    assert latest.json() == first.json()["sealed"]
    assert (
        ingestion.get(f"/v1/datasets/support/versions/{sealed.version[:10]}", headers=bearer(token)).status_code == 200
    )

    erased = ingestion.post("/v1/erasures", json={"key": "user_id", "value": "u2"}, headers=bearer(token))

    assert erased.status_code == 200, erased.text
    assert (erased.json()["examples_removed"], erased.json()["datasets"]) == (2, ["support"])
    second = ingestion.post("/v1/datasets/support/seal", headers=bearer(token)).json()["sealed"]
    assert (second["rows"], second["source_rows"], second["eda_profile"]["examples_erased"]) == (2, {"chat": 2}, 2)
    assert [v["version"] for v in ingestion.get("/v1/datasets/support/versions", headers=bearer(token)).json()] == [
        sealed.version,
        second["version"],
    ]
    audit = [json.loads(r.value) for r in await read_topic(settings.kafka_bootstrap, DATA_ERASURES.name, 100_000, 2.0)]
    assert [(a["metadata_value"], a["examples_removed"]) for a in audit if a["tenant"] == tenant] == [("u2", 2)]


async def test_unknown_empty_and_malformed_requests_get_a_json_4xx(ingestion: TestClient, token: str) -> None:
    rejected_only = {"records": [example("bad", "Is there a mobile app?", None, "u1") | {"dataset": "empty"}]}
    assert ingestion.post("/v1/ingest", json=rejected_only, headers=bearer(token)).status_code == 202
    await wait_for_records(ingestion, token, "empty", seen=1)

    unknown = ingestion.post("/v1/datasets/nope/seal", headers=bearer(token))
    empty = ingestion.post("/v1/datasets/empty/seal", headers=bearer(token))
    no_versions = ingestion.get("/v1/datasets/empty/versions", headers=bearer(token))
    both = ingestion.post("/v1/erasures", json={"doc_id": "d", "key": "user_id", "value": "u1"}, headers=bearer(token))
    bad_key = ingestion.post("/v1/erasures", json={"key": "a'b", "value": "u1"}, headers=bearer(token))

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert unknown.json()["error"]["message"] == "no dataset 'nope'"
    assert (empty.status_code, empty.json()["error"]["code"]) == (409, "empty_dataset")
    assert no_versions.status_code == 404
    assert both.status_code == 422
    assert bad_key.status_code == 422
    assert ingestion.post("/v1/datasets/support/seal").status_code == 401


async def test_the_size_policy_seals_on_its_own(
    settings: PlatformSettings, tmp_path: Path, token: str, unique: str
) -> None:
    policy = {"ingest_seal_max_pending_examples": 2, "ingest_seal_check_seconds": 0.1}
    with TestClient(create_app(service_settings(settings, tmp_path / "policy", **policy))) as client:
        assert client.post("/v1/ingest", json={"records": RECORDS[:2]}, headers=bearer(token)).status_code == 202

        [event] = await sealed_events(settings.kafka_bootstrap, f"t-{unique}")

    assert (event.rows, event.trigger) == (2, "size")
