"""The model server counts what a request costs the engine before it runs: every prompt times `n` takes a
slot, a prompt list is bounded, and a key's tokens per minute count when they are reserved, not only once
a request has ended."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest

from llmops_common.engines.base import InferenceEngine
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from services.model_server.app import create_app
from services.model_server.settings import Settings
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.scripted_engine import ScriptedEngine
from tests.support.uvicorn_thread import serving


@pytest.fixture
def server_settings(settings: PlatformSettings, tmp_path: Path, unique: str) -> Settings:
    return Settings(**{**settings.model_dump(), "data_dir": tmp_path / "server", "base_model_name": f"base-{unique}"})


@contextmanager
def model_server(settings: Settings, engine: ScriptedEngine, **overrides: object) -> Iterator[httpx.AsyncClient]:
    """A model server over real HTTP on `engine`, and a client of it."""
    port = free_port()

    @asynccontextmanager
    async def given_engine(_: Settings) -> AsyncIterator[InferenceEngine]:
        yield engine

    app = create_app(settings.model_copy(update={"model_server_port": port, **overrides}), open_engine=given_engine)
    with serving(app, port, "model server") as url:
        yield httpx.AsyncClient(base_url=url, timeout=30)


@pytest.fixture
async def key(settings: PlatformSettings, unique: str) -> str:
    return await publish_api_key(settings, f"t-{unique}")


async def first_token_of(lines: AsyncIterator[str]) -> None:
    """Waits for a stream's first generated token: the request holds its slots and tokens from now on.

    The caller keeps `lines`: a line iterator left to the garbage collector is closed, and the connection
    with it, which would end the request.
    """
    async for line in lines:
        if '"text":"w0' in line:
            return
    raise AssertionError("the stream ended before its first token")


async def test_a_completion_with_more_prompts_than_allowed_is_422(server_settings: Settings, key: str) -> None:
    body = {"model": server_settings.base_model_name, "prompt": ["p"] * 5, "max_tokens": 1}
    with model_server(server_settings, ScriptedEngine(), max_prompts_per_request=4) as client:
        async with client:
            refused = await client.post("/v1/completions", json=body, headers=bearer(key))
            allowed = await client.post("/v1/completions", json={**body, "prompt": ["p"] * 4}, headers=bearer(key))
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "message": "prompt lists 5 prompts; this server allows at most 4 per request",
        "type": "invalid_request_error",
        "param": "prompt",
        "code": "invalid_request",
    }
    assert allowed.status_code == 200
    assert len(allowed.json()["choices"]) == 4


async def test_prompts_times_n_beyond_the_running_slots_is_refused(server_settings: Settings, key: str) -> None:
    base = server_settings.base_model_name
    with model_server(server_settings, ScriptedEngine(), max_running_requests=4, max_queued_requests=100) as client:
        async with client:
            completion = {"model": base, "prompt": ["a", "b", "c"], "n": 2, "max_tokens": 1}
            too_many_completions = await client.post("/v1/completions", json=completion, headers=bearer(key))
            chat = {"model": base, "messages": [{"role": "user", "content": "hi"}], "n": 5, "max_tokens": 1}
            too_many_choices = await client.post("/v1/chat/completions", json=chat, headers=bearer(key))
            fitting = await client.post("/v1/completions", json={**completion, "n": 1}, headers=bearer(key))
    assert too_many_completions.status_code == 400
    assert "generates 6 sequences" in too_many_completions.json()["error"]["message"]
    assert too_many_choices.status_code == 400
    assert "generates 5 sequences" in too_many_choices.json()["error"]["message"]
    assert fitting.status_code == 200


async def test_each_prompt_and_choice_takes_a_running_slot(server_settings: Settings, key: str) -> None:
    base = server_settings.base_model_name
    engine = ScriptedEngine(token_seconds=0.05)
    with model_server(server_settings, engine, max_running_requests=2, max_queued_requests=0) as client:
        async with client:
            two_prompts = {"model": base, "prompt": ["a", "b"], "max_tokens": 40, "stream": True}
            async with client.stream("POST", "/v1/completions", json=two_prompts, headers=bearer(key)) as running:
                lines = running.aiter_lines()
                await first_token_of(lines)
                one_more = await client.post(
                    "/v1/completions", json={"model": base, "prompt": "c", "max_tokens": 1}, headers=bearer(key)
                )
    assert running.status_code == 200
    assert one_more.status_code == 503  # both slots are the running request's: no room, and no queue
    assert one_more.json()["error"]["code"] == "overloaded"


async def test_tokens_per_minute_count_while_a_request_runs(
    server_settings: Settings, settings: PlatformSettings, unique: str
) -> None:
    limited = await publish_api_key(settings, f"tpm-{unique}", tpm=30)
    base = server_settings.base_model_name
    with model_server(server_settings, ScriptedEngine(token_seconds=0.05)) as client:
        async with client:
            long = {"model": base, "prompt": "a b", "max_tokens": 20, "stream": True}  # reserves 2 + 20
            async with client.stream("POST", "/v1/completions", json=long, headers=bearer(limited)) as running:
                lines = running.aiter_lines()
                await first_token_of(lines)
                concurrent = await client.post(
                    "/v1/completions", json={"model": base, "prompt": "a b", "max_tokens": 10}, headers=bearer(limited)
                )
            too_large = await client.post(
                "/v1/completions", json={"model": base, "prompt": "a b", "max_tokens": 40}, headers=bearer(limited)
            )
    assert running.status_code == 200
    assert concurrent.status_code == 429  # 22 reserved + 12 more would pass 30
    assert concurrent.json()["error"]["message"] == "this key allows 30 tokens per minute"
    assert int(concurrent.headers["retry-after"]) >= 1
    assert too_large.status_code == 429  # 42 could never fit in 30: waiting does not help
    assert "may use 42 tokens" in too_large.json()["error"]["message"]
