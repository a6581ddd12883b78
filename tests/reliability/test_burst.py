"""A burst of ten times what a service admits: every answer is a success or a clean refusal (429 or 503 in
the service's JSON error shape, with `Retry-After`), the process's memory stays flat from one burst to
the next, and the consumers behind it catch up (their lag goes back to 0) with every event accounted for.

The model server runs the real transformers engine on the tiny test model, admitting 2 running and 4
queued sequences; ingestion admits 2 ingest requests at a time. Both run as processes.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest

from llmops_common.topics import DATA_RAW, INFERENCE_COMPLETED
from tests.reliability.conftest import Launch, Platform
from tests.reliability.streams import WORDS, sentence
from tests.support.consumer_groups import wait_caught_up
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.service_process import ServiceProcess
from tests.support.topic_reader import eventually

pytestmark = pytest.mark.integration

RUNNING, QUEUED = 2, 4
BURST = 10 * (RUNNING + QUEUED)
WAVES = 3
RPM = 6
RSS_GROWTH_BOUND = 64 * 1024 * 1024
"""How much more memory the process may hold after its last burst than after its first."""
MiB = 1024 * 1024


def assert_clean_refusal(response: httpx.Response, status: int, code: str, *, openai: bool) -> None:
    """The response is the service's JSON error with `status`, `code` and a `Retry-After` header."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) >= 1
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if openai:
        assert set(error) == {"message", "type", "param", "code"}
    else:
        assert set(error) == {"code", "message", "detail"}


async def completions(url: str, token: str, count: int) -> list[httpx.Response]:
    """`count` completion requests sent at once."""
    body = {"model": "tiny", "prompt": "Where is my order?", "max_tokens": 32}
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=count)) as client:
        sent = [client.post(f"{url}/v1/completions", json=body, headers=bearer(token)) for _ in range(count)]
        return list(await asyncio.gather(*sent))


async def completions_arriving_together(server: ServiceProcess, token: str, count: int) -> list[httpx.Response]:
    """`count` completion requests that reach the server together: it is paused until every one of them is
    sent whole (the kernel holds them), then resumed, so none can finish before the last one arrives."""
    sent = 0

    async def trace(event: str, _: object) -> None:
        nonlocal sent
        if event == "http11.receive_response_headers.started":
            sent += 1

    body = {"model": "tiny", "prompt": "Where is my order?", "max_tokens": 32}
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=count)) as client:
        server.pause()
        try:
            posts = [
                asyncio.create_task(
                    client.post(
                        f"{server.url}/v1/completions", json=body, headers=bearer(token), extensions={"trace": trace}
                    )
                )
                for _ in range(count)
            ]
            await eventually(lambda: sent == count, timeout=60)
        finally:
            server.resume()
        return list(await asyncio.gather(*posts))


async def monitor_statuses(url: str, token: str) -> Counter[int]:
    """The HTTP statuses of the tenant's requests as the monitor stored them."""
    query = "SELECT http_status, count() FROM inference_completed GROUP BY http_status"
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(f"{url}/", content=query, headers=bearer(token))
    assert response.status_code == 200, response.text
    return Counter({int(status): int(count) for status, count in (line.split() for line in response.text.splitlines())})


@pytest.mark.timeout(240)
async def test_a_10x_burst_on_the_model_server_is_answered_cleanly_with_flat_memory_and_no_lag_left(
    platform: Platform, launch: Launch, tiny_model: Path, unique: str
) -> None:
    await platform.create_topics()
    tenant = f"t-{unique}"
    token = await publish_api_key(platform.settings, tenant)
    limited = await publish_api_key(platform.settings, tenant, rpm=RPM)
    admin = await publish_api_key(platform.settings, tenant, "admin")
    server = launch(
        "model_server",
        ENGINE="transformers",
        BASE_MODEL=str(tiny_model),
        BASE_MODEL_NAME="tiny",
        MAX_RUNNING_REQUESTS=str(RUNNING),
        MAX_QUEUED_REQUESTS=str(QUEUED),
        TELEMETRY_FLUSH_SECONDS="0.05",
    )
    monitor = launch("monitor")
    process, _ = await asyncio.gather(server.start_ready(), monitor.start_ready())
    seen: Counter[int] = Counter(response.status_code for response in await completions(server.url(), token, 1))

    rss: list[int] = []
    for _ in range(WAVES):
        responses = await completions_arriving_together(process, token, BURST)
        rss.append(process.rss_bytes())
        seen.update(response.status_code for response in responses)
        assert {response.status_code for response in responses} <= {200, 503}
        for response in responses:
            if response.status_code == 503:
                assert_clean_refusal(response, 503, "overloaded", openai=True)
        # The first arrivals fill the running and queued slots; the others arrive before any is done.
        assert RUNNING + QUEUED <= Counter(r.status_code for r in responses)[200] < BURST

    # A key allowed RPM requests a minute gets exactly that many through; the rest are told to wait.
    responses = await completions(server.url(), limited, BURST)
    seen.update(response.status_code for response in responses)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: RPM, 429: BURST - RPM}
    for response in responses:
        if response.status_code == 429:
            assert_clean_refusal(response, 429, "rate_limit_exceeded", openai=True)

    print(f"model server RSS after each burst: {[round(r / MiB) for r in rss]} MiB; answers {dict(seen)}")
    assert rss[-1] - rss[0] < RSS_GROWTH_BOUND
    # Every answer, refusals included, is one telemetry event: the monitor's sink takes them all.
    await wait_caught_up(platform.bootstrap, "monitor.sink", [INFERENCE_COMPLETED.name], timeout=60)
    assert await monitor_statuses(monitor.url(), admin) == seen
    assert_still_running(process)


def assert_still_running(process: ServiceProcess) -> None:
    """The burst did not take the process down."""
    assert process.running, process.log()[-5000:]


INGEST_SLOTS = 2
RECORDS_PER_REQUEST = 50


async def ingest_burst(platform: Platform, url: str, token: str, rng: random.Random, wave: int) -> list[httpx.Response]:
    """Ten times as many ingest requests at once as ingestion admits, each a batch of new examples. The broker
    is paused until all but the admitted ones are answered, so that the admitted ones are still publishing
    (their slots taken) when the others arrive."""

    def batch(number: int) -> dict[str, object]:
        records = [
            {
                "record_id": f"w{wave}-r{number}-{index}",
                "source": "burst",
                "kind": "example",
                "dataset": "burst",
                "prompt": f"{sentence(rng, 8)} {rng.choice(WORDS)}?",
                "completion": f"{sentence(rng, 10)}.",
            }
            for index in range(RECORDS_PER_REQUEST)
        ]
        return {"records": records}

    count = 10 * INGEST_SLOTS
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=count)) as client:
        platform.broker.pause()
        try:
            posts = [
                asyncio.create_task(client.post(f"{url}/v1/ingest", json=batch(n), headers=bearer(token)))
                for n in range(count)
            ]
            await eventually(lambda: sum(post.done() for post in posts) == count - INGEST_SLOTS, timeout=60)
        finally:
            platform.broker.resume()
        return list(await asyncio.gather(*posts))


@pytest.mark.timeout(180)
async def test_a_10x_burst_on_the_ingestion_api_is_answered_cleanly_with_flat_memory_and_no_lag_left(
    platform: Platform, launch: Launch, unique: str
) -> None:
    await platform.create_topics()
    token = await publish_api_key(platform.settings, f"t-{unique}", "data")
    ingestion = launch("ingestion", INGEST_MAX_CONCURRENT_REQUESTS=str(INGEST_SLOTS))
    process = await ingestion.start_ready()
    rng = random.Random(unique)  # noqa: S311 - test data

    rss: list[int] = []
    accepted = 0
    for wave in range(WAVES):
        responses = await ingest_burst(platform, ingestion.url(), token, rng, wave)
        rss.append(process.rss_bytes())
        statuses = Counter(response.status_code for response in responses)
        assert statuses == {202: INGEST_SLOTS, 429: len(responses) - INGEST_SLOTS}
        for response in responses:
            if response.status_code == 429:
                assert_clean_refusal(response, 429, "too_many_requests", openai=False)
            else:
                assert response.json()["accepted"] == RECORDS_PER_REQUEST
        accepted += statuses[202] * RECORDS_PER_REQUEST

    print(f"ingestion RSS after each burst: {[round(r / MiB) for r in rss]} MiB; {accepted} records accepted")
    assert rss[-1] - rss[0] < RSS_GROWTH_BOUND
    await wait_caught_up(platform.bootstrap, "ingestion", [DATA_RAW.name], timeout=90)
    async with httpx.AsyncClient(timeout=10) as client:
        dataset = (await client.get(f"{ingestion.url()}/v1/datasets/burst", headers=bearer(token))).json()
    assert dataset["examples"] == accepted
    assert_still_running(process)
