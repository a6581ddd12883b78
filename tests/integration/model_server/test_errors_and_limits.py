"""Errors in OpenAI's shape: bad requests, auth, unknown models, the body cap, limits and overload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import openai
import pytest

from llmops_common.events import BudgetExceededV1, BudgetResetV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from services.model_server.settings import Settings
from services.model_server.tenant_gate import Refusal
from tests.integration.model_server.conftest import ServerFactory, sdk
from tests.support.prompt_registry import bearer, publish_api_key
from tests.support.scripted_engine import ScriptedEngine
from tests.support.topic_reader import eventually_async

HI = [{"role": "user", "content": "hi"}]


async def test_error_statuses_and_shape(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    base = str(server_settings.base_model_name)
    with start_server(scripted_engine, max_tokens_cap=50, max_body_bytes=4096) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            unknown = await http.post("/v1/chat/completions", json={"model": "nope", "messages": HI})
            invalid = await http.post("/v1/chat/completions", json={"model": base, "messages": HI, "temperature": 7})
            not_json = await http.post(
                "/v1/chat/completions", content=b"{", headers={"content-type": "application/json"}
            )
            capped = await http.post("/v1/chat/completions", json={"model": base, "messages": HI, "max_tokens": 51})
            large = await http.post(
                "/v1/chat/completions", json={"model": base, "messages": [{"role": "user", "content": "x" * 5000}]}
            )
            no_key = await http.post(
                "/v1/chat/completions", json={"model": base, "messages": HI}, headers={"Authorization": ""}
            )
            wrong_key = await http.post(
                "/v1/chat/completions", json={"model": base, "messages": HI}, headers=bearer("llmops_0123456789ab_nope")
            )
        with pytest.raises(openai.NotFoundError) as raised:
            await sdk(url, key).chat.completions.create(model="nope", messages=HI)  # type: ignore[arg-type]
    assert raised.value.code == "model_not_found"
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "message": "the model 'nope' does not exist or this key may not call it",
        "type": "not_found_error",
        "param": None,
        "code": "model_not_found",
    }
    assert invalid.status_code == 422
    assert "temperature" in invalid.json()["error"]["message"]
    assert not_json.status_code == 422
    assert capped.status_code == 400
    assert capped.json()["error"]["param"] == "max_tokens"
    assert large.status_code == 413
    assert large.json()["error"]["code"] == "too_large"
    assert no_key.status_code == 401
    assert wrong_key.status_code == 401
    assert wrong_key.json()["error"]["type"] == "authentication_error"
    for response in (unknown, invalid, not_json, capped, large, no_key, wrong_key):
        assert response.headers["x-request-id"]


async def test_a_key_sees_and_calls_only_its_models(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    limited = await publish_api_key(settings, f"t-{unique}", models=["other-model"])
    with start_server(scripted_engine) as url:
        client = sdk(url, limited)
        models = await client.models.list()
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model=str(server_settings.base_model_name), messages=HI)  # type: ignore[arg-type]
    assert models.data == []


async def test_requests_per_minute_answer_429_with_retry_after(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    limited = await publish_api_key(settings, f"t-{unique}", rpm=2)
    with start_server(scripted_engine) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(limited)) as http:
            body = {"model": server_settings.base_model_name, "messages": HI, "max_tokens": 1}
            statuses = [(await http.post("/v1/chat/completions", json=body)).status_code for _ in range(2)]
            refused = await http.post("/v1/chat/completions", json=body)
    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(refused.headers["retry-after"]) <= 61


async def test_tokens_per_minute_and_max_input_tokens(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    limited = await publish_api_key(settings, f"t-{unique}", tpm=10, max_input_tokens=5)
    base = server_settings.base_model_name
    with start_server(scripted_engine) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(limited)) as http:
            long = await http.post("/v1/completions", json={"model": base, "prompt": "a b c d e f", "max_tokens": 1})
            first = await http.post("/v1/completions", json={"model": base, "prompt": "a b", "max_tokens": 8})
            second = await http.post("/v1/completions", json={"model": base, "prompt": "a b", "max_tokens": 1})
    assert long.status_code == 429
    assert "6 tokens" in long.json()["error"]["message"]
    assert first.status_code == 200  # 2 + 8 = 10 tokens: the minute is used up
    assert second.status_code == 429
    assert "tokens per minute" in second.json()["error"]["message"]
    assert int(second.headers["retry-after"]) >= 1


async def test_a_full_queue_answers_503_and_frees_up(
    start_server: ServerFactory, server_settings: Settings, key: str
) -> None:
    engine = ScriptedEngine(token_seconds=0.05)
    base = server_settings.base_model_name
    with start_server(engine, max_running_requests=1, max_queued_requests=1) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=30) as http:
            body = {"model": base, "prompt": "x", "max_tokens": 10}
            results = await asyncio.gather(*(http.post("/v1/completions", json=body) for _ in range(4)))
            after = await http.post("/v1/completions", json=body)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200, 503, 503]
    refused = next(r for r in results if r.status_code == 503)
    assert refused.json()["error"]["code"] == "overloaded"
    assert refused.headers["retry-after"] == "1"
    assert after.status_code == 200


async def test_a_client_that_disconnects_stops_generation(
    start_server: ServerFactory, server_settings: Settings, key: str
) -> None:
    engine = ScriptedEngine(token_seconds=0.05)
    with start_server(engine, max_running_requests=1, max_queued_requests=0) as url:
        client = sdk(url, key)
        stream = await client.chat.completions.create(
            model=str(server_settings.base_model_name), messages=HI, max_tokens=500, stream=True
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                break
        await stream.close()
        for _ in range(100):
            if engine.aborted:
                break
            await asyncio.sleep(0.05)
        # The slot is free again: with one running slot and no queue, a new request passes.
        after = await client.chat.completions.create(
            model=str(server_settings.base_model_name), messages=HI, max_tokens=1
        )
    assert len(engine.aborted) == 1
    assert after.choices[0].message.content == "w0"


class BlockedTenants:
    """A tenant gate that blocks the tenants it holds, as the budget replica will."""

    def __init__(self, *blocked: str) -> None:
        self.blocked = set(blocked)

    def refusal(self, tenant: str, model_name: str) -> Refusal | None:
        return Refusal(f"the budget of {tenant} is spent", 30) if tenant in self.blocked else None


async def test_a_blocked_tenant_gets_429_and_metrics_count_requests(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    blocked = await publish_api_key(settings, f"b-{unique}")
    allowed = await publish_api_key(settings, f"a-{unique}")
    body = {"model": server_settings.base_model_name, "messages": HI, "max_tokens": 2}
    with start_server(scripted_engine, tenant_gate=BlockedTenants(f"b-{unique}")) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.post("/v1/chat/completions", json=body, headers=bearer(blocked))
            served = await http.post("/v1/chat/completions", json=body, headers=bearer(allowed))
            metrics = (await http.get("/metrics")).text
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "tenant_blocked"
    assert refused.json()["error"]["message"] == f"the budget of b-{unique} is spent"
    assert refused.headers["retry-after"] == "30"
    assert served.status_code == 200
    base = server_settings.base_model_name
    assert f'llmops_inference_requests_total{{model="{base}",status="ok"}} 1.0' in metrics
    assert 'llmops_inference_requests_total{model="unknown",status="error"} 1.0' in metrics
    assert f'llmops_inference_tokens_total{{kind="completion",model="{base}"}} 2.0' in metrics
    assert f'llmops_inference_time_to_first_token_seconds_count{{model="{base}"}} 1.0' in metrics
    assert "llmops_inference_queue_depth 0.0" in metrics


async def test_a_chunked_body_over_the_cap_gets_413(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"model": "' + str(server_settings.base_model_name).encode() + b'", "messages": [{"role": "user", '
        for _ in range(10):
            yield b'"content": "' + b"x" * 1000 + b'", '
        yield b'"name": "n"}]}'

    with start_server(scripted_engine, max_body_bytes=4096) as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key)) as http:
            response = await http.post("/v1/chat/completions", content=chunks())
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert response.headers["x-request-id"]


async def test_a_tenant_over_an_enforced_budget_is_refused_until_the_reset_event(
    start_server: ServerFactory,
    scripted_engine: ScriptedEngine,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    tenant = f"spender-{unique}"
    key = await publish_api_key(settings, tenant)
    now = datetime.now(UTC)
    window = {
        "budget_id": f"{tenant}/*/hour",
        "tenant": tenant,
        "window": "hour",
        "window_start": now - timedelta(minutes=10),
        "window_end": now + timedelta(minutes=50),
        "at": now,
    }
    body = {"model": server_settings.base_model_name, "messages": HI, "max_tokens": 2}
    with start_server(scripted_engine) as url:  # the default gate: the replica of llmops.budgets
        async with httpx.AsyncClient(base_url=url) as http:
            exceeded = BudgetExceededV1(**window, spend_usd=12.5, budget_usd=10, alert_id=f"alert-{unique}")
            await publish_once(settings, exceeded, source="monitor")

            async def refused() -> bool:
                response = await http.post("/v1/chat/completions", json=body, headers=bearer(key))
                return response.status_code == 429

            await eventually_async(refused, timeout=20)
            response = await http.post("/v1/chat/completions", json=body, headers=bearer(key))
            assert response.json()["error"]["code"] == "tenant_blocked"
            assert 2900 <= int(response.headers["retry-after"]) <= 3001

            await publish_once(settings, BudgetResetV1(**window), source="monitor")

            async def served() -> bool:
                response = await http.post("/v1/chat/completions", json=body, headers=bearer(key))
                return response.status_code == 200

            await eventually_async(served, timeout=20)
