"""The CUDA paths on a real GPU: a LoRA fine-tune of the tiny model trains there (bf16 mixed precision) and
scores its held-out rows there, and the transformers engine puts the model there by itself and generates,
LoRA adapters mixed into one batch, the same greedy tokens as on the CPU. Skipped where CUDA is unavailable."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from llmops_common.engines.base import AdapterSpec, SamplingParams
from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from llmops_common.engines.transformers_engine import TransformersEngine
from services.trainer import lora_run
from services.trainer.examples import PaddingCollator, pad_token_id, tokenize_rows
from services.trainer.held_out_loss import held_out_loss
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunResult, RunSpec, run_lora_training, training_arguments
from tests.support.engine_runs import Completion, complete, greedy
from tests.support.training_rows import learnable_rows

ACCELERATOR = torch.device("cuda")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.timeout(600),
]

ROWS = learnable_rows(48)
EVAL_ROWS = learnable_rows(8, split="eval")
QUESTIONS = [
    "Hi, how do I reset my password in Quill Docs?",
    "Hello, sync is not working in Relay Chat. What can I do?",
    "What plans do you offer for Atlas Maps?",
    "Good morning, how do I export my data in Harbor Storage?",
]


def run_spec(model: Path, work_dir: Path) -> RunSpec:
    return RunSpec(
        job_id="gpu-job",
        base_model=model,
        train_rows=ROWS,
        eval_rows=EVAL_ROWS,
        hyperparameters=LoraHyperparameters(max_steps=30, batch_size=8),
        work_dir=work_dir,
        checkpoint_every_steps=10,
        progress_every_steps=10,
    )


@pytest.fixture(scope="module")
def gpu_run(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, list[torch.device]]:
    """A 30-step fine-tune, and the device of the model each held-out scoring saw."""
    scored_on: list[torch.device] = []

    def spying_held_out_loss(model: torch.nn.Module, *args: Any) -> float | None:
        scored_on.append(next(model.parameters()).device)
        return held_out_loss(model, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lora_run, "held_out_loss", spying_held_out_loss)
        result = run_lora_training(run_spec(tiny_model, tmp_path_factory.mktemp("gpu-run")))
    return result, scored_on


def test_training_arguments_pick_the_gpu_in_bf16(tiny_model: Path, tmp_path: Path) -> None:
    args = training_arguments(run_spec(tiny_model, tmp_path))
    assert args.device.type == ACCELERATOR.type
    assert args.use_cpu is (ACCELERATOR.type == "cpu")
    assert args.bf16 is (ACCELERATOR.type == "cuda" and torch.cuda.is_bf16_supported())


def test_the_fine_tune_runs_on_the_gpu_and_lowers_the_loss(gpu_run: tuple[RunResult, list[torch.device]]) -> None:
    result, scored_on = gpu_run
    assert [device.type for device in scored_on] == [ACCELERATOR.type]
    assert result.steps == 30
    assert [step for step, _ in result.loss_curve] == list(range(1, 31))
    first, last = result.loss_curve[:5], result.loss_curve[-5:]
    print(f"loss: first five {[round(x, 3) for _, x in first]}, last five {[round(x, 3) for _, x in last]}")
    assert sum(loss for _, loss in last) / 5 < 0.7 * sum(loss for _, loss in first) / 5
    assert result.eval_loss is not None
    assert result.eval_loss < result.loss_curve[0][1]
    assert result.tokens_per_second > 0


def test_the_adapter_is_saved_and_scores_on_the_cpu_as_it_did_on_the_gpu(
    gpu_run: tuple[RunResult, list[torch.device]], tiny_model: Path
) -> None:
    result, _ = gpu_run
    assert {"adapter_model.safetensors", "adapter_config.json"} <= {p.name for p in result.adapter_dir.iterdir()}
    config = json.loads((result.adapter_dir / "adapter_config.json").read_text())
    assert (config["r"], config["task_type"]) == (8, "CAUSAL_LM")
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, result.adapter_dir)
    chat = HFChatTokenizer.from_pretrained(str(tiny_model))
    examples = tokenize_rows(EVAL_ROWS, chat, chat.hf, 256).examples
    on_cpu = held_out_loss(model, examples, PaddingCollator(pad_token_id(chat.hf)), 8)
    print(f"held-out loss: {result.eval_loss} on the training device, {on_cpu} on the CPU")
    # The GPU scored under the bf16 autocast that training left on the model's forward: close, not equal.
    assert on_cpu == pytest.approx(result.eval_loss, rel=3e-2)


@pytest.fixture(scope="module")
async def engines(tiny_model: Path) -> AsyncIterator[tuple[TransformersEngine, TransformersEngine]]:
    """The same model on the CPU and on the device the engine picks by itself."""
    on_cpu = await TransformersEngine.start(str(tiny_model), max_batch_size=8, device="cpu")
    chosen = await TransformersEngine.start(str(tiny_model), max_batch_size=8)
    yield on_cpu, chosen
    await on_cpu.close()
    await chosen.close()


def test_the_engine_puts_the_model_on_the_gpu_by_itself(
    engines: tuple[TransformersEngine, TransformersEngine],
) -> None:
    on_cpu, chosen = engines
    assert on_cpu.device.type == "cpu"
    assert chosen.device.type == ACCELERATOR.type


Schedule = Sequence[tuple[str, AdapterSpec | None, int, float]]


async def run_schedule(engine: TransformersEngine, schedule: Schedule) -> list[Completion]:
    """Requests that join the running batch at staggered moments and leave it at different lengths."""

    async def late(prompt: str, adapter: AdapterSpec | None, max_tokens: int, delay: float) -> Completion:
        await asyncio.sleep(delay)
        return await complete(engine, prompt, greedy(max_tokens), adapter)

    return list(await asyncio.gather(*(late(*item) for item in schedule)))


async def test_greedy_with_mixed_adapters_on_the_gpu_equals_the_cpu(
    engines: tuple[TransformersEngine, TransformersEngine], lora_adapters: tuple[Path, Path]
) -> None:
    on_cpu, chosen = engines
    prompts = [on_cpu.tokenizer.render_chat([{"role": "user", "content": q}]) for q in QUESTIONS]
    first, second = AdapterSpec("gpu-a", lora_adapters[0]), AdapterSpec("gpu-b", lora_adapters[1])
    choices = [None, first, second]
    schedule = [
        (prompt, choices[i % 3], 12 + 4 * (i % 4), 0.01 * i) for i, prompt in enumerate([*prompts, *prompts, *prompts])
    ]
    expected = await run_schedule(on_cpu, schedule)
    got = await run_schedule(chosen, schedule)
    assert [(c.text, c.completion_tokens, c.finish_reason) for c in got] == [
        (c.text, c.completion_tokens, c.finish_reason) for c in expected
    ]
    assert chosen.loaded_adapters == {"gpu-a", "gpu-b"}
    # Each adapter changes what the model says, on the GPU as on the CPU.
    alone = {adapter: await complete(chosen, prompts[0], greedy(24), adapter) for adapter in choices}
    assert len({c.text for c in alone.values()}) == 3, alone

    base_before = (await complete(chosen, prompts[1], greedy(24))).text
    for engine in engines:
        await engine.unload_adapter("gpu-a")
        await engine.unload_adapter("gpu-b")
    assert chosen.loaded_adapters == frozenset()
    # Unloading the last adapter takes the bare base model back; it still runs on the GPU.
    assert (await complete(chosen, prompts[1], greedy(24))).text == base_before
    assert base_before == (await complete(on_cpu, prompts[1], greedy(24))).text


async def test_seeded_sampling_on_the_gpu_repeats_itself(
    engines: tuple[TransformersEngine, TransformersEngine],
) -> None:
    _, chosen = engines
    prompt = chosen.tokenizer.render_chat([{"role": "user", "content": QUESTIONS[2]}])
    sampling = SamplingParams(max_tokens=24, temperature=0.9, top_p=0.9, seed=7)
    runs = await asyncio.gather(*(complete(chosen, prompt, sampling) for _ in range(3)))
    assert len({run.text for run in runs}) == 1
    assert runs[0].completion_tokens > 0
