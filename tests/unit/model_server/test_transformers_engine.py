"""The transformers engine on a tiny real model: batching, sampling, stops, aborts and LoRA adapters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from llmops_common.engines.base import (
    AdapterLoadError,
    AdapterSpec,
    GenerationRequest,
    InferenceEngine,
    SamplingParams,
)
from llmops_common.engines.errors import PromptTooLongError, UnknownAdapterError
from llmops_common.engines.transformers_engine import TransformersEngine
from tests.support.engine_runs import complete, greedy
from tests.support.tiny_models import broken_adapter

QUESTIONS = [
    "Hi, how do I reset my password in Quill Docs?",
    "Hello, sync is not working in Relay Chat. What can I do?",
    "What plans do you offer for Atlas Maps?",
    "Good morning, how do I export my data in Harbor Storage?",
]


@pytest.fixture(scope="module")
async def engine(tiny_model: Path) -> AsyncIterator[TransformersEngine]:
    engine = await TransformersEngine.start(str(tiny_model), max_batch_size=8)
    yield engine
    await engine.close()


@pytest.fixture(scope="module")
def prompts(engine: TransformersEngine) -> list[str]:
    return [engine.tokenizer.render_chat([{"role": "user", "content": q}]) for q in QUESTIONS]


def reference_greedy(model_path: Path, prompt: str, max_tokens: int, adapter: Path | None = None) -> str:
    """transformers' own `generate` (with PEFT for an adapter), the reference the engine must equal."""
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    ids = torch.tensor([tokenizer.encode(prompt)])
    with torch.inference_mode():
        out = model.generate(input_ids=ids, max_new_tokens=max_tokens, do_sample=False)
    return str(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))


def test_is_an_inference_engine(engine: TransformersEngine) -> None:
    assert isinstance(engine, InferenceEngine)
    assert engine.name == "transformers"


async def test_greedy_equals_transformers_generate(
    engine: TransformersEngine, prompts: list[str], tiny_model: Path
) -> None:
    got = await complete(engine, prompts[0], greedy(24))
    assert got.text == reference_greedy(tiny_model, prompts[0], 24)
    assert got.text.strip(), "the pre-trained model answers with text"
    assert got.prompt_tokens == engine.tokenizer.count_tokens(prompts[0])


async def test_batched_greedy_equals_unbatched(engine: TransformersEngine, prompts: list[str]) -> None:
    alone = [await complete(engine, prompt, greedy(20)) for prompt in prompts]

    async def late(prompt: str, delay: float) -> str:
        await asyncio.sleep(delay)  # joins a batch that is already decoding
        return (await complete(engine, prompt, greedy(20))).text

    together = await asyncio.gather(*(late(p, 0.01 * i) for i, p in enumerate(prompts * 3)))
    assert together == [a.text for a in alone] * 3


async def test_max_tokens_ends_with_length(engine: TransformersEngine, prompts: list[str]) -> None:
    got = await complete(engine, prompts[0], greedy(5))
    assert (got.completion_tokens, got.finish_reason) == (5, "length")


async def test_stop_string_cuts_the_text(engine: TransformersEngine, prompts: list[str]) -> None:
    full = (await complete(engine, prompts[0], greedy(30))).text
    stop = full.split()[2]
    got = await complete(engine, prompts[0], greedy(30, stop=(stop,)))
    assert got.finish_reason == "stop"
    assert got.text == full[: full.index(stop)]


async def test_seed_repeats_sampling_and_differs_between_seeds(engine: TransformersEngine, prompts: list[str]) -> None:
    def hot(seed: int) -> SamplingParams:
        return SamplingParams(max_tokens=24, temperature=1.5, top_p=0.95, seed=seed)

    first, again, other = [await complete(engine, prompts[2], hot(seed)) for seed in (7, 7, 8)]
    assert first.text == again.text
    assert first.text != other.text


async def test_closing_the_iterator_frees_the_slot(engine: TransformersEngine, prompts: list[str]) -> None:
    stream = engine.generate(GenerationRequest("abort-me", prompts[1], greedy(200)))
    first = await anext(stream)
    assert first.completion_tokens >= 1
    await stream.aclose()
    for _ in range(100):
        if engine.active_requests == 0:
            break
        await asyncio.sleep(0.01)
    assert engine.active_requests == 0
    assert (await complete(engine, prompts[1], greedy(3))).completion_tokens == 3


async def test_prompt_longer_than_the_context_is_refused(engine: TransformersEngine) -> None:
    with pytest.raises(PromptTooLongError):
        await complete(engine, "word " * 400, greedy(4))


async def test_adapters_serve_side_by_side_in_one_batch(
    engine: TransformersEngine, prompts: list[str], lora_adapters: tuple[Path, Path], tiny_model: Path
) -> None:
    a, b = AdapterSpec("a-v1", lora_adapters[0]), AdapterSpec("b-v1", lora_adapters[1])
    await engine.load_adapter(a)
    await engine.load_adapter(b)
    alone = [await complete(engine, prompts[0], greedy(16), adapter) for adapter in (None, a, b)]
    assert len({c.text for c in alone}) == 3, "each adapter changes the output"
    assert alone[1].text == reference_greedy(tiny_model, prompts[0], 16, lora_adapters[0])
    mixed = await asyncio.gather(*(complete(engine, prompts[0], greedy(16), ad) for ad in (None, a, b) * 2))
    assert [c.text for c in mixed] == [c.text for c in alone] * 2


async def test_a_failing_adapter_load_leaves_the_others_serving(
    engine: TransformersEngine, prompts: list[str], lora_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    a = AdapterSpec("a-v1", lora_adapters[0])
    before = await complete(engine, prompts[3], greedy(12), a)
    broken = broken_adapter(lora_adapters[0], tmp_path / "broken")
    for spec in (AdapterSpec("missing", tmp_path / "nowhere"), AdapterSpec("broken", broken)):
        with pytest.raises(AdapterLoadError):
            await engine.load_adapter(spec)
    assert "broken" not in engine.loaded_adapters
    assert (await complete(engine, prompts[3], greedy(12), a)).text == before.text


async def test_unload_waits_for_running_requests(
    engine: TransformersEngine, prompts: list[str], lora_adapters: tuple[Path, Path]
) -> None:
    b = AdapterSpec("b-unload", lora_adapters[1])
    await engine.load_adapter(b)
    alone = await complete(engine, prompts[2], greedy(60), b)
    running = engine.generate(GenerationRequest("long", prompts[2], greedy(60), b))
    text = (await anext(running)).text
    unloading = asyncio.create_task(engine.unload_adapter(b.name))
    await asyncio.sleep(0)  # the unload starts; it cannot end before the running request does
    with pytest.raises(UnknownAdapterError):
        await complete(engine, prompts[2], greedy(4), b)
    async for delta in running:
        text += delta.text
    await asyncio.wait_for(unloading, 5)
    assert text == alone.text, "the running request finished on its adapter"
    assert b.name not in engine.loaded_adapters


async def test_unloading_every_adapter_leaves_the_base_model_serving(
    tiny_model: Path, prompts: list[str], lora_adapters: tuple[Path, Path]
) -> None:
    # An engine of its own: the shared one may hold other tests' adapters, and this is about the last one.
    engine = await TransformersEngine.start(str(tiny_model), max_batch_size=4)
    try:
        before = await complete(engine, prompts[0], greedy(12))
        adapter = AdapterSpec("only", lora_adapters[0])
        await engine.load_adapter(adapter)
        on_adapter = await complete(engine, prompts[0], greedy(12), adapter)
        await engine.unload_adapter(adapter.name)
        assert engine.loaded_adapters == frozenset()
        assert (await complete(engine, prompts[0], greedy(12))).text == before.text
        await engine.load_adapter(adapter)
        assert (await complete(engine, prompts[0], greedy(12), adapter)).text == on_adapter.text
    finally:
        await engine.close()
