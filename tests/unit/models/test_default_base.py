"""The default base model: built from the shipped corpus, stored as an artifact, found again by path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from llmops_common.models.corpus import load_corpus
from llmops_common.models.corpus.generate import documents
from llmops_common.models.default_base import init_default_base_model, resolve_base_model, stored_default
from llmops_common.models.pretraining import PretrainingPlan
from llmops_common.models.tiny_llama import TinyLlamaSpec
from llmops_common.storage.artifacts import ArtifactStore
from llmops_common.storage.local_blobs import LocalBlobs

SPEC = TinyLlamaSpec(vocab_size=400, hidden_size=64, heads=2, layers=1, intermediate_size=96, context=128)
PLAN = PretrainingPlan(max_steps=3, max_seconds=10.0, batch_size=2, block_size=32)


def test_the_shipped_corpus_is_the_generator_output() -> None:
    shipped = [json.dumps(d, ensure_ascii=False, sort_keys=True) for d in documents()]
    assert len(load_corpus()) == len(shipped)
    assert (Path(__file__).parents[3] / "libs/common/llmops_common/models/corpus/support_corpus.jsonl").read_text(
        encoding="utf-8"
    ).splitlines() == shipped


def test_init_stores_a_hugging_face_folder_that_resolves(tmp_path: Path) -> None:
    store, data_dir = ArtifactStore(LocalBlobs(tmp_path / "artifacts")), tmp_path / "data"
    assert stored_default(data_dir) is None
    ref = init_default_base_model(store, data_dir, SPEC, PLAN)
    assert stored_default(data_dir) == ref

    folder = Path(resolve_base_model(None, store, data_dir))
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"} <= {
        p.name for p in folder.iterdir()
    }
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert model.config.model_type == "llama"
    assert model.config.hidden_size // model.config.num_attention_heads == 32
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == "<|begin|><|user|>\nHi<|end|>\n<|assistant|>\n"
    assert tokenizer.convert_ids_to_tokens(tokenizer.encode(prompt))[:2] == ["<|begin|>", "<|user|>"]


def test_a_configured_model_wins_and_none_at_all_is_an_error(tmp_path: Path) -> None:
    store = ArtifactStore(LocalBlobs(tmp_path / "artifacts"))
    assert resolve_base_model("org/some-model", store, tmp_path) == "org/some-model"
    with pytest.raises(LookupError, match="llmops model init"):
        resolve_base_model(None, store, tmp_path)


def test_head_size_below_32_is_refused() -> None:
    with pytest.raises(ValueError, match="head size"):
        TinyLlamaSpec(hidden_size=64, heads=4)
