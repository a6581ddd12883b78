"""An adapter's model card: Hugging Face's README.md, YAML front matter then Markdown.

The front matter holds Hugging Face's own keys (`base_model`, `library_name`, `tags`, `datasets`) and an
`llmops` section with what made the adapter: hyperparameters, results and the code's version, so an
adapter found on its own still says where it came from. A base model that names a GGUF file is loaded
the way `llmops_common.models.loading` loads it: its folder, plus `gguf_file=<name>`.
"""

from __future__ import annotations

import functools
import importlib.metadata
import shutil
import subprocess
from pathlib import Path

import yaml

from llmops_common.models.loading import gguf_location

from .hyperparameters import LoraHyperparameters
from .lora_run import RunResult

PACKAGE = "llmops-platform"
CURVE_ROWS = 40
"""At most this many rows of the loss table; a longer curve is thinned evenly, its last step kept."""


def render_model_card(
    *,
    job_id: str,
    model_name: str,
    base_model: str,
    dataset: str | None,
    hyperparameters: LoraHyperparameters,
    result: RunResult,
) -> str:
    """The card of the adapter `result` made; `dataset` is `name@version`, None where the rows have no name
    (a distributed job's spec that does not say)."""
    front_matter: dict[str, object] = {
        "base_model": base_model,
        "library_name": "peft",
        "tags": ["lora", "llmops"],
        **({"datasets": [dataset]} if dataset else {}),
        "llmops": {
            "job_id": job_id,
            "model_name": model_name,
            "hyperparameters": hyperparameters.as_flat_dict(),
            "train_loss": result.train_loss,
            "eval_loss": result.eval_loss,
            "steps": result.steps,
            "duration_seconds": round(result.duration_seconds, 3),
            "tokens_trained": result.tokens_trained,
            "tokens_per_second": round(result.tokens_per_second, 1),
            "code_version": code_version(),
        },
    }
    header = yaml.safe_dump(front_matter, sort_keys=False, allow_unicode=True)
    return f"---\n{header}---\n\n{_body(model_name, job_id, base_model, dataset, hyperparameters, result)}"


@functools.cache
def code_version() -> dict[str, str]:
    """The installed platform's version, and the git commit of its source where it is a git checkout."""
    try:
        version = {"package": importlib.metadata.version(PACKAGE)}
    except importlib.metadata.PackageNotFoundError:
        version = {"package": "unknown"}
    if commit := _git_commit(Path(__file__).parent):
        version["git_commit"] = commit
    return version


def _git_commit(folder: Path) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command on our own source folder
            [git, "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _body(
    model_name: str, job_id: str, base_model: str, dataset: str | None, hp: LoraHyperparameters, result: RunResult
) -> str:
    eval_loss = "—" if result.eval_loss is None else f"{result.eval_loss:.4f}"
    trained_on = f"the dataset version `{dataset}`" if dataset else "the rows of the job's spec"
    lines = [
        f"# {model_name}: LoRA adapter from job {job_id}",
        "",
        f"A LoRA adapter (rank {hp.r}, alpha {hp.alpha}) for `{base_model}`, fine-tuned by the LLMOps platform's "
        f"trainer on {trained_on}, with the loss on completion tokens only.",
        "",
        "## Loading it",
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        "",
        *_base_loading_lines(base_model),
        'model = PeftModel.from_pretrained(base, "path/to/this/adapter")',
        "```",
        "",
        "Prompts are the base model's chat template with the generation prompt, as the platform's model server "
        "renders them.",
        "",
        "## Results",
        "",
        "| metric | value |",
        "|---|---|",
        f"| train loss (last tenth of the steps) | {result.train_loss:.4f} |",
        f"| eval loss (per completion token) | {eval_loss} |",
        f"| steps | {result.steps} |",
        f"| tokens trained | {result.tokens_trained:,} |",
        f"| tokens per second | {result.tokens_per_second:,.0f} |",
        f"| duration | {result.duration_seconds:.1f} s |",
        "",
        "## Hyperparameters",
        "",
        "| name | value |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in hp.as_flat_dict().items()),
        "",
        "## Training loss",
        "",
        "| step | loss |",
        "|---|---|",
        *(f"| {step} | {loss:.4f} |" for step, loss in _thinned(result.loss_curve)),
        "",
    ]
    return "\n".join(lines)


def _base_loading_lines(base_model: str) -> list[str]:
    location = gguf_location(base_model)
    if location is None:
        arguments, note = f'"{base_model}"', []
    else:
        folder, name = location
        # transformers reads a GGUF file as its folder (or hub id) plus `gguf_file`, not as one path.
        arguments = f'"{folder}", gguf_file="{name}"'
        note = ["# A GGUF file: transformers unpacks its weights (pip install gguf)."]
    return [
        *note,
        f"tokenizer = AutoTokenizer.from_pretrained({arguments})",
        f"base = AutoModelForCausalLM.from_pretrained({arguments})",
    ]


def _thinned(curve: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if len(curve) <= CURVE_ROWS:
        return curve
    stride = -(-len(curve) // CURVE_ROWS)
    kept = curve[::stride]
    return kept if kept[-1] == curve[-1] else [*kept, curve[-1]]
