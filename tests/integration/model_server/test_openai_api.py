"""The OpenAI SDK against a running model server: chat, completions, streaming, n, stop and models."""

from __future__ import annotations

import pytest

from llmops_common.settings import PlatformSettings
from services.model_server.settings import Settings
from tests.integration.model_server.conftest import ServerFactory, sdk
from tests.support.prompt_registry import publish_api_key
from tests.support.scripted_engine import ScriptedEngine


@pytest.fixture
async def key(settings: PlatformSettings, unique: str) -> str:
    return await publish_api_key(settings, f"t-{unique}")


async def test_chat_completion_through_the_sdk(
    start_server: ServerFactory, scripted_engine: ScriptedEngine, server_settings: Settings, key: str
) -> None:
    base = server_settings.base_model_name
    with start_server(scripted_engine) as url:
        client = sdk(url, key)
        raw = await client.chat.completions.with_raw_response.create(
            model=base, messages=[{"role": "user", "content": "hello there"}], max_tokens=3
        )
        completion = raw.parse()
    assert raw.headers["x-request-id"]
    assert completion.id == f"chatcmpl-{raw.headers['x-request-id']}"
    assert completion.model == base
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "w0 w1 w2"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 3)
    assert completion.usage.total_tokens == 7
    assert scripted_engine.prompts == ["user: hello there\nassistant:"]
