"""Base model settings: a folder or hub id loads as `from_pretrained` loads it; a `.gguf` path splits into the
folder and the file (a real GGUF file is loaded in tests/integration/trainer/test_smollm2_learns.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from llmops_common.models.loading import gguf_location, load_causal_lm, load_tokenizer


@pytest.mark.parametrize(
    ("base_model", "location"),
    [
        ("/models/smol/SmolLM2-135M-Instruct.Q4_1.gguf", ("/models/smol", "SmolLM2-135M-Instruct.Q4_1.gguf")),
        (Path("models/x.GGUF"), ("models", "x.GGUF")),
        (
            "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/model.gguf",
            ("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "model.gguf"),
        ),
        ("HuggingFaceTB/SmolLM2-135M-Instruct", None),
        ("/models/tiny-llama", None),
        (Path("/models/v1.5"), None),
    ],
)
def test_only_a_gguf_file_name_is_split(base_model: str | Path, location: tuple[str, str] | None) -> None:
    assert gguf_location(base_model) == location


def test_a_folder_loads_as_from_pretrained_loads_it(tiny_model: Path) -> None:
    model = load_causal_lm(tiny_model, dtype=torch.float32)
    tokenizer = load_tokenizer(str(tiny_model))
    assert model.dtype == torch.float32
    assert not getattr(model, "is_quantized", False)
    assert tokenizer.decode(tokenizer.encode("reset my password", add_special_tokens=False)) == "reset my password"
