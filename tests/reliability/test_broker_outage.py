"""The broker goes down for 30 s while the model server, the monitor and ingestion run, then comes back on
the same address. The service processes are never restarted.

- The model server answers every request during the outage: its telemetry spills to disk, and once the
  broker takes batches again every spilled event is delivered, and stored by the monitor, once.
- The monitor and ingestion reconnect by themselves: they are ready again, and consume what comes next.
- Ingestion's API, whose producer has nowhere to send during the outage, answers a clean 503 within its
  publish bound (`LLMOPS_KAFKA_PUBLISH_TIMEOUT_SECONDS`) rather than hanging, and accepts again afterwards.

The broker keeps its topics in an S3 bucket (a moto server), so it comes back with its topics, records
and committed offsets, as a Kafka broker does after a restart. Tansu's default, memory, would come back
empty with offsets starting at 0 again: a consumer that stayed up would then fetch from its old
positions and skip the first records of the new log, which is a lost cluster, not an outage.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from llmops_common.topics import INFERENCE_COMPLETED
from tests.reliability.conftest import Launch, Platform
from tests.reliability.test_burst import assert_still_running
from tests.support.consumer_groups import wait_caught_up
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.service_process import ServiceLauncher, wait_ready
from tests.support.topic_reader import eventually_async

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 30.0
REQUESTS = 10


async def complete(url: str, token: str, count: int) -> list[str]:
    """`count` completions one after another, each answered 200; returns their request ids."""
    ids = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(count):
            body = {"model": "tiny", "prompt": "Where is my order?", "max_tokens": 8}
            response = await client.post(f"{url}/v1/completions", json=body, headers=bearer(token))
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"].removeprefix("cmpl-"))
    return ids


async def stored_request_ids(url: str, token: str) -> Counter[str]:
    """The request ids of the monitor's rows for the tenant, each with how often it is there.

    FINAL reads the table as its engine folds it, one row per event id. A telemetry batch whose publish
    timed out while the broker was coming back is sent again from the spill folder: the same event ids in
    new records, stored again and folded away at the next merge (see `telemetry_spill`)."""
    query = "SELECT request_id FROM inference_completed FINAL"
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{url}/", content=query, headers=bearer(token))
    assert response.status_code == 200, response.text
    return Counter(response.text.split())


async def metric(url: str, name: str) -> float:
    """A counter or gauge of the service's `/metrics`, 0 when it has no sample yet."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{url}/metrics")).text
    samples = [line.split()[-1] for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(samples[0]) if samples else 0.0


@pytest.mark.timeout(240)
async def test_services_ride_out_a_30_second_broker_outage_and_reconnect_by_themselves(
    durable_platform: Platform, launch_durable: Launch, tiny_model: object, unique: str
) -> None:
    platform, launch = durable_platform, launch_durable
    await platform.create_topics()
    tenant = f"t-{unique}"
    token = await publish_api_key(platform.settings, tenant)
    admin = await publish_api_key(platform.settings, tenant, "admin")
    data = await publish_api_key(platform.settings, tenant, "data")
    server = launch(
        "model_server",
        ENGINE="transformers",
        BASE_MODEL=str(tiny_model),
        BASE_MODEL_NAME="tiny",
        TELEMETRY_FLUSH_SECONDS="0.05",
        TELEMETRY_PUBLISH_TIMEOUT_SECONDS="1",
    )
    monitor, ingestion = launch("monitor"), launch("ingestion")
    launchers = (server, monitor, ingestion)
    processes = await asyncio.gather(*(launcher.start_ready() for launcher in launchers))

    before = await complete(server.url(), token, REQUESTS)
    await wait_caught_up(platform.bootstrap, "monitor.sink", [INFERENCE_COMPLETED.name], timeout=60)

    platform.broker.stop()
    down_at = time.monotonic()
    during = await complete(server.url(), token, REQUESTS)

    async def spilled() -> bool:
        return await metric(server.url(), "llmops_telemetry_spilled_total") == REQUESTS

    await eventually_async(spilled, timeout=OUTAGE_SECONDS / 2)
    async with httpx.AsyncClient(timeout=60) as client:
        refused = await client.post(f"{ingestion.url()}/v1/ingest", json=batch("during", 5), headers=bearer(data))
    assert refused.status_code == 503, refused.text
    assert set(refused.json()["error"]) == {"code", "message", "detail"}
    await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))

    platform.broker.start()
    for process in processes:
        await wait_ready(process, timeout=120)

    await wait_caught_up(platform.bootstrap, "monitor.sink", [INFERENCE_COMPLETED.name], timeout=120)
    assert await metric(server.url(), "llmops_telemetry_spill_backlog") == 0
    assert await stored_request_ids(monitor.url(), admin) == Counter(before + during)
    after = await complete(server.url(), token, REQUESTS)
    async with httpx.AsyncClient(timeout=30) as client:
        accepted = await client.post(f"{ingestion.url()}/v1/ingest", json=batch("after", 5), headers=bearer(data))
    assert accepted.status_code == 202, accepted.text

    await wait_caught_up(platform.bootstrap, "monitor.sink", [INFERENCE_COMPLETED.name], timeout=60)
    assert await stored_request_ids(monitor.url(), admin) == Counter(before + during + after)
    await eventually_async(lambda: dataset_examples(ingestion, data, 5), timeout=60)
    for launcher in launchers:
        assert len(launcher.started) == 1
        assert_still_running(launcher.started[0])


def batch(name: str, count: int) -> dict[str, object]:
    """An ingest batch of `count` examples for dataset `name`."""
    records = [
        {
            "record_id": f"{name}-{number}",
            "source": "outage",
            "kind": "example",
            "dataset": name,
            "prompt": f"Which parcel is number {number} of the {name} batch?",
            "completion": f"Parcel {number} left the depot.",
        }
        for number in range(count)
    ]
    return {"records": records}


async def dataset_examples(ingestion: ServiceLauncher, token: str, count: int) -> bool:
    """Whether the examples of the batch sent after the outage are all in their dataset."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{ingestion.url()}/v1/datasets/after", headers=bearer(token))
    return response.status_code == 200 and response.json()["examples"] == count
