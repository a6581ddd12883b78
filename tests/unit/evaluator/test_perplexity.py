"""Reference perplexities on the tiny test model: masked prompts, batching, truncation and adapters."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from services.evaluator.perplexity import reference_perplexities

QUESTIONS = [
    "How do I reset my password?",
    "What plans do you offer?",
    "Can I export my data?",
    "Why was my card declined?",
    "How do I invite a teammate?",
]


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture(scope="module")
def model(tiny_model: Path) -> Any:
    loaded: Any = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    return loaded.eval()


@pytest.fixture(scope="module")
def prompts(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    chat = HFChatTokenizer(tokenizer)
    return [chat.render_chat([{"role": "user", "content": question}]) for question in QUESTIONS]


@pytest.fixture(scope="module")
def greedy_answers(model: Any, tokenizer: PreTrainedTokenizerBase, prompts: list[str]) -> list[str]:
    answers = []
    for prompt in prompts:
        ids = torch.tensor([tokenizer.encode(prompt)])
        out = model.generate(ids, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        answers.append(str(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)).strip())
    return answers


def _by_hand(model: Any, prompt_ids: list[int], target_ids: list[int]) -> float:
    """Perplexity of `target_ids` after `prompt_ids`, one unpadded row, summed log-probabilities."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([prompt_ids + target_ids])).logits[0]
    log_probs = torch.log_softmax(logits.double(), dim=-1)
    start = len(prompt_ids)
    nll = -sum(log_probs[start + i - 1, token].item() for i, token in enumerate(target_ids))
    return math.exp(nll / len(target_ids))


def test_equals_a_hand_computation_over_reference_tokens_only(
    model: Any, tokenizer: PreTrainedTokenizerBase, prompts: list[str]
) -> None:
    reference = "Open the Team page."
    target = [*tokenizer.encode(reference, add_special_tokens=False), tokenizer.eos_token_id]
    [perplexity] = reference_perplexities(model, tokenizer, [prompts[0]], [reference])
    assert perplexity == pytest.approx(_by_hand(model, tokenizer.encode(prompts[0]), target), rel=1e-5)


def test_the_models_own_answer_is_likelier_than_its_words_reversed(
    model: Any, tokenizer: PreTrainedTokenizerBase, prompts: list[str], greedy_answers: list[str]
) -> None:
    # The same words in reverse order: the same tokens, in an order the model did not choose.
    shuffled = [" ".join(reversed(answer.split())) for answer in greedy_answers]
    assert shuffled != greedy_answers
    own = reference_perplexities(model, tokenizer, prompts, greedy_answers)
    other = reference_perplexities(model, tokenizer, prompts, shuffled)
    assert all(a < b for a, b in zip(own, other, strict=True)), (own, other)


def test_batched_equals_unbatched(
    model: Any, tokenizer: PreTrainedTokenizerBase, prompts: list[str], greedy_answers: list[str]
) -> None:
    # Different lengths in one batch, so right padding is exercised.
    references = [answer[: 5 + 9 * i] for i, answer in enumerate(greedy_answers)]
    one_by_one = reference_perplexities(model, tokenizer, prompts, references, batch_size=1)
    for batch_size in (2, 8):
        batched = reference_perplexities(model, tokenizer, prompts, references, batch_size=batch_size)
        assert batched == pytest.approx(one_by_one, abs=1e-4, rel=1e-4)


def test_a_prompt_longer_than_the_context_loses_its_oldest_tokens(
    model: Any, tokenizer: PreTrainedTokenizerBase
) -> None:
    context = model.config.max_position_embeddings
    prompt = HFChatTokenizer(tokenizer).render_chat([{"role": "user", "content": "please help me " * 200}])
    prompt_ids = tokenizer.encode(prompt)
    assert len(prompt_ids) > context
    reference = "Sorry for the trouble."
    target = [*tokenizer.encode(reference, add_special_tokens=False), tokenizer.eos_token_id]
    [perplexity] = reference_perplexities(model, tokenizer, [prompt], [reference])
    kept = prompt_ids[len(prompt_ids) - (context - len(target)) :]
    assert perplexity == pytest.approx(_by_hand(model, kept, target), rel=1e-5)


def test_the_active_adapter_is_scored(
    tiny_model: Path, tokenizer: PreTrainedTokenizerBase, prompts: list[str], lora_adapters: tuple[Path, Path]
) -> None:
    from peft import PeftModel

    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    references = ["Open the Team page and choose a plan."] * len(prompts)
    plain = reference_perplexities(base, tokenizer, prompts, references)
    adapted = PeftModel.from_pretrained(base, str(lora_adapters[0]))
    with_adapter = reference_perplexities(adapted, tokenizer, prompts, references)
    assert all(abs(a - b) > 1e-3 for a, b in zip(with_adapter, plain, strict=True))
    with adapted.disable_adapter():
        assert reference_perplexities(adapted, tokenizer, prompts, references) == pytest.approx(plain, rel=1e-5)


def test_training_mode_is_restored_and_dropout_is_off(
    model: Any, tokenizer: PreTrainedTokenizerBase, prompts: list[str]
) -> None:
    expected = reference_perplexities(model, tokenizer, prompts[:2], ["yes", "no"])
    model.train()
    try:
        assert reference_perplexities(model, tokenizer, prompts[:2], ["yes", "no"]) == expected
        assert model.training
    finally:
        model.eval()


def test_refuses_unpaired_input(model: Any, tokenizer: PreTrainedTokenizerBase) -> None:
    with pytest.raises(ValueError, match="2 prompts but 1 references"):
        reference_perplexities(model, tokenizer, ["a", "b"], ["c"])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        reference_perplexities(model, tokenizer, ["a"], ["c"], batch_size=0)
    assert reference_perplexities(model, tokenizer, [], []) == []


def test_an_impossible_reference_has_a_large_finite_perplexity() -> None:
    from services.evaluator.perplexity import PERPLEXITY_CEILING, bounded_perplexity

    assert bounded_perplexity(math.log(20.0)) == pytest.approx(20.0)
    assert bounded_perplexity(float("inf")) == PERPLEXITY_CEILING
    assert bounded_perplexity(float("nan")) == PERPLEXITY_CEILING
