"""The model card: front matter Hugging Face and our tools can parse, and a body that says how to load it."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import yaml

from services.trainer.hyperparameters import parse_hyperparameters
from services.trainer.lora_run import RunResult
from services.trainer.model_card import render_model_card


def result(curve_length: int = 3, eval_loss: float | None = 1.25) -> RunResult:
    return RunResult(
        adapter_dir=Path("/tmp/adapter"),
        steps=curve_length,
        train_loss=1.5,
        eval_loss=eval_loss,
        tokens_trained=12_240,
        tokens_per_second=20_000.0,
        duration_seconds=1.234567,
        loss_curve=[(step, 4.0 - step / curve_length) for step in range(1, curve_length + 1)],
    )


def card(
    run: RunResult, base_model: str = "llmops/tiny-base", dataset: str | None = "support-faq@v3"
) -> tuple[dict[str, object], str]:
    text = render_model_card(
        job_id="job-1",
        model_name="support-assistant",
        base_model=base_model,
        dataset=dataset,
        hyperparameters=parse_hyperparameters({"r": 4, "max_steps": 3}),
        result=run,
    )
    assert text.startswith("---\n")
    header, body = text.removeprefix("---\n").split("\n---\n", 1)
    return yaml.safe_load(header), body


def test_the_front_matter_parses_with_the_hub_keys_and_the_platform_section() -> None:
    front, _ = card(result())
    assert front["base_model"] == "llmops/tiny-base"
    assert front["library_name"] == "peft"
    assert front["tags"] == ["lora", "llmops"]
    assert front["datasets"] == ["support-faq@v3"]
    platform = front["llmops"]
    assert isinstance(platform, dict)
    assert platform["hyperparameters"]["r"] == 4
    assert platform["hyperparameters"]["max_steps"] == 3
    assert platform["hyperparameters"]["target_modules"] == "q_proj,k_proj,v_proj,o_proj"
    assert (platform["train_loss"], platform["eval_loss"], platform["steps"]) == (1.5, 1.25, 3)
    assert platform["duration_seconds"] == 1.235
    assert platform["tokens_per_second"] == 20_000.0
    assert platform["code_version"]["package"] == importlib.metadata.version("llmops-platform")
    assert set(platform["code_version"]) <= {"package", "git_commit"}


def test_the_body_says_how_to_load_it_and_tabulates_the_loss() -> None:
    _, body = card(result(curve_length=3, eval_loss=None))
    assert 'tokenizer = AutoTokenizer.from_pretrained("llmops/tiny-base")\n' in body
    assert 'base = AutoModelForCausalLM.from_pretrained("llmops/tiny-base")\n' in body
    assert 'PeftModel.from_pretrained(base, "path/to/this/adapter")' in body
    assert "gguf" not in body
    assert "| eval loss (per completion token) | — |" in body
    assert "| 1 | 3.6667 |\n| 2 | 3.3333 |\n| 3 | 3.0000 |" in body


def test_a_long_curve_is_thinned_and_keeps_its_last_step() -> None:
    front, body = card(result(curve_length=1000))
    table = body.split("## Training loss")[1].splitlines()
    rows = [line for line in table if line.startswith("| ") and "step" not in line]
    assert len(rows) <= 41
    assert rows[0].startswith("| 1 |")
    assert rows[-1].startswith("| 1000 |")
    assert front["llmops"]["eval_loss"] == 1.25  # type: ignore[index]


def test_a_gguf_base_loads_from_its_folder_with_the_file_named() -> None:
    front, body = card(result(), base_model="/models/smollm2/SmolLM2-135M-Instruct-Q8_0.gguf")
    assert front["base_model"] == "/models/smollm2/SmolLM2-135M-Instruct-Q8_0.gguf"
    arguments = '"/models/smollm2", gguf_file="SmolLM2-135M-Instruct-Q8_0.gguf"'
    assert f"tokenizer = AutoTokenizer.from_pretrained({arguments})\n" in body
    assert f"base = AutoModelForCausalLM.from_pretrained({arguments})\n" in body
    assert 'from_pretrained("/models/smollm2/SmolLM2-135M-Instruct-Q8_0.gguf")' not in body


def test_a_card_without_a_dataset_name_lists_no_dataset() -> None:
    front, body = card(result(), dataset=None)
    assert "datasets" not in front
    assert "fine-tuned by the LLMOps platform's trainer on the rows of the job's spec" in body
