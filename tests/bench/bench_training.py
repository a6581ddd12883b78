"""Benchmarks fine-tuning throughput: LoRA against full fine-tuning, and our run against a bare Trainer.

Run it with `python -m tests.bench.bench_training`. Three variants train the same model on the same
tokenised rows (support conversations from the shipped corpus) for the same steps, with the same seed:

- LoRA through `run_lora_training`: progress and cancel hooks every step, a checkpoint every K steps,
  tokens counted, a log line per step;
- full fine-tuning through `run_lora_training`, the same way (every weight trains);
- LoRA on a bare transformers Trainer: no callbacks, no checkpoints, no token counting.

Throughput = tokens of the steps (prompt and completion, no padding) / Trainer's own `train_runtime`,
so model loading and the final save count for none. Beside it, the CPU seconds of the whole call
(loading, tokenising, training, saving): steadier than wall time where other processes share the
cores, and what our wrapper adds around the Trainer counts there too. The variants alternate within each round; the
table shows medians over rounds, and each ratio is the median of the rounds' own ratios. Goal: our run
keeps >= 95% of the bare Trainer's throughput.
The model is `--model`, else the small test model (built in seconds and cached).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import Trainer, TrainingArguments, set_seed
from transformers.trainer_callback import PrinterCallback
from transformers.utils import logging as transformers_logging

from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from llmops_common.settings import PlatformSettings
from services.trainer.examples import (
    ExampleDataset,
    PaddingCollator,
    TokenizedExample,
    pad_token_id,
    tokenize_rows,
)
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunSpec, load_training_model, run_lora_training, training_arguments
from tests.bench.report import Row, table, verdict
from tests.support.tiny_models import tiny_model_folder
from tests.support.training_rows import support_rows

OVERHEAD_GOAL = 0.95
VARIANTS = ("lora", "full", "bare", "bare_checkpoints")
LABELS = {
    "lora": "LoRA, run_lora_training",
    "full": "full fine-tune, run_lora_training",
    "bare": "LoRA, bare Trainer",
    "bare_checkpoints": "LoRA, bare Trainer, same checkpoints",
}


@dataclass(frozen=True)
class BenchConfig:
    """What to run: `rounds` rounds of every variant, `steps` steps of `batch_size` rows each."""

    rounds: int = 5
    steps: int = 96
    batch_size: int = 8
    rows: int = 64
    checkpoint_every_steps: int = 50
    """The trainer service's default (`train_checkpoint_every_steps`)."""
    model: str | None = None
    threads: int = 1
    """torch's CPU threads. One by default: on a shared machine, threads that wait for a busy core make a
    run several times slower at random, which buries a 5% difference."""


@dataclass
class VariantRuns:
    """One variant's rounds: tokens per second, CPU seconds of the whole call and mean training loss."""

    variant: str
    tokens_per_second: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    mean_loss: list[float] = field(default_factory=list)

    @property
    def median_tps(self) -> float:
        """The median throughput over rounds."""
        return statistics.median(self.tokens_per_second)


def bench_model(configured: str | None) -> str:
    """The model to benchmark: the one named, or the small test model."""
    return configured or str(tiny_model_folder(PlatformSettings().data_dir / "bench-models"))


def make_spec(config: BenchConfig, model: str, work_dir: Path, *, full: bool = False) -> RunSpec:
    """The run every variant trains."""
    return RunSpec(
        job_id="bench",
        base_model=model,
        train_rows=support_rows(config.rows),
        eval_rows=[],
        hyperparameters=LoraHyperparameters(max_steps=config.steps, batch_size=config.batch_size, dropout=0.0),
        work_dir=work_dir,
        checkpoint_every_steps=config.checkpoint_every_steps,
        progress_every_steps=1,
        full_fine_tune=full,
    )


def ours(spec: RunSpec) -> tuple[float, float]:
    """Tokens per second and mean loss of `run_lora_training`, hooks and checkpoints included."""
    result = run_lora_training(spec)
    return result.tokens_per_second, statistics.fmean(loss for _, loss in result.loss_curve)


def bare(spec: RunSpec, *, checkpoints: bool = False) -> tuple[float, float]:
    """Tokens per second and mean loss of a plain Trainer on the same model, rows and arguments; with
    `checkpoints`, saving every K steps as ours does (Trainer's own checkpoints, no hooks)."""
    hp = spec.hyperparameters
    chat = HFChatTokenizer.from_pretrained(str(spec.base_model))
    set_seed(hp.seed)
    model = load_training_model(spec)
    dataset = tokenize_rows(
        spec.train_rows, chat, chat.hf, min(hp.max_seq_length, model.config.max_position_embeddings)
    )
    ours_args = training_arguments(spec)
    args = TrainingArguments(
        output_dir=str(spec.checkpoints_dir),
        per_device_train_batch_size=ours_args.per_device_train_batch_size,
        max_steps=ours_args.max_steps,
        learning_rate=ours_args.learning_rate,
        seed=ours_args.seed,
        data_seed=ours_args.data_seed,
        use_cpu=ours_args.use_cpu,
        bf16=ours_args.bf16,
        remove_unused_columns=False,
        save_strategy="steps" if checkpoints else "no",
        save_steps=spec.checkpoint_every_steps,
        report_to=[],
        disable_tqdm=True,
        logging_strategy="no",
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ExampleDataset(dataset.examples),
        data_collator=PaddingCollator(pad_token_id(chat.hf)),
    )
    trainer.remove_callback(PrinterCallback)  # as ours does: no log line printed to stdout
    output = trainer.train()
    # Whole epochs (or the same prefix of one) as ours: the same rows in the same order, so the same tokens.
    tokens = _tokens_of_steps(dataset.examples, spec, args)
    return tokens / output.metrics["train_runtime"], output.training_loss


def _tokens_of_steps(examples: Sequence[TokenizedExample], spec: RunSpec, args: TrainingArguments) -> int:
    trainer_tokens = [len(e.input_ids) for e in examples]
    per_epoch = -(-len(trainer_tokens) // args.per_device_train_batch_size)
    epochs, partial = divmod(spec.hyperparameters.max_steps or 0, per_epoch)
    if partial:
        raise ValueError(f"steps must be whole epochs of {per_epoch} steps for the bare run's token count")
    return epochs * sum(trainer_tokens)


def run_benchmark(config: BenchConfig) -> tuple[str, dict[str, VariantRuns]]:
    """Every variant once per round, the order rotated each round, so drift hits all of them alike."""
    model = bench_model(config.model)
    runs: dict[str, Callable[[Path], tuple[float, float]]] = {
        "lora": lambda folder: ours(make_spec(config, model, folder)),
        "full": lambda folder: ours(make_spec(config, model, folder, full=True)),
        "bare": lambda folder: bare(make_spec(config, model, folder)),
        "bare_checkpoints": lambda folder: bare(make_spec(config, model, folder), checkpoints=True),
    }
    results = {variant: VariantRuns(variant) for variant in VARIANTS}
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        for round_index in range(config.rounds):
            order = VARIANTS[round_index % len(VARIANTS) :] + VARIANTS[: round_index % len(VARIANTS)]
            for variant in order:
                with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as folder:
                    cpu_started = time.process_time()
                    tps, loss = runs[variant](Path(folder))
                    results[variant].cpu_seconds.append(time.process_time() - cpu_started)
                results[variant].tokens_per_second.append(tps)
                results[variant].mean_loss.append(loss)
    finally:
        torch.set_num_threads(threads)
    return model, results


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median over rounds of one variant's number over another's in the same round.

    Within a round the two ran back to back, so a machine that slows down for a while slows both; the
    median of the per-round ratios shrugs off such drift better than a ratio of two medians.
    """
    return statistics.median(top / bottom for top, bottom in zip(numerators, denominators, strict=True))


def render(model: str, results: dict[str, VariantRuns], config: BenchConfig) -> str:
    """The printed tables."""
    rows: list[Row] = [("variant", "tokens/s (median)", "tokens/s (min-max)", "CPU s, whole call", "mean loss")]
    for variant in VARIANTS:
        r = results[variant]
        spread = f"{min(r.tokens_per_second):,.0f}-{max(r.tokens_per_second):,.0f}"
        cpu, loss = statistics.median(r.cpu_seconds), statistics.median(r.mean_loss)
        rows.append((LABELS[variant], f"{r.median_tps:,.0f}", spread, f"{cpu:.2f}", f"{loss:.4f}"))
    lora, full, plain = results["lora"], results["full"], results["bare"]
    saving = results["bare_checkpoints"]
    ours_share = paired_ratio(lora.tokens_per_second, saving.tokens_per_second)
    # The same tokens either way, so the inverse ratio of CPU seconds is one of throughput per CPU second.
    ours_cpu_share = paired_ratio(saving.cpu_seconds, lora.cpu_seconds)
    crash_safety = paired_ratio(lora.tokens_per_second, plain.tokens_per_second)
    lora_speedup = paired_ratio(lora.tokens_per_second, full.tokens_per_second)
    comparison: list[Row] = [
        ("comparison (median of per-round ratios)", "ratio", f"goal >= {OVERHEAD_GOAL:.0%}"),
        ("ours / bare Trainer, same checkpoints, tokens/s", f"{ours_share:.1%}", verdict(ours_share >= OVERHEAD_GOAL)),
        (
            "ours / bare Trainer, same checkpoints, tokens per CPU s",
            f"{ours_cpu_share:.1%}",
            verdict(ours_cpu_share >= OVERHEAD_GOAL),
        ),
        ("ours / bare Trainer without checkpoints, tokens/s", f"{crash_safety:.1%}", "(the price of checkpoints)"),
        ("LoRA / full fine-tune, tokens/s", f"{lora_speedup:.2f}x", "(no goal)"),
    ]
    header = (
        f"Fine-tuning throughput: {config.rows} support rows, {config.steps} steps of {config.batch_size}, "
        f"ours checkpointing every {config.checkpoint_every_steps} steps, model {Path(model).name}, "
        f"{config.rounds} rounds, {config.threads} CPU thread(s)"
    )
    return table(header, rows) + "\n\n" + table("Ratios", comparison)


def main(argv: Sequence[str] | None = None) -> None:
    """Parses the arguments, runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    defaults = BenchConfig()
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="rounds of every variant")
    parser.add_argument("--steps", type=int, default=defaults.steps, help="optimizer steps (whole epochs)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="rows per step")
    parser.add_argument("--rows", type=int, default=defaults.rows, help="training rows")
    parser.add_argument("--checkpoint-every", type=int, default=defaults.checkpoint_every_steps, help="K")
    parser.add_argument("--model", default=None, help="a model folder or hub id (default: the test model)")
    parser.add_argument("--threads", type=int, default=defaults.threads, help="torch CPU threads")
    args = parser.parse_args(argv)
    config = BenchConfig(
        args.rounds, args.steps, args.batch_size, args.rows, args.checkpoint_every, args.model, args.threads
    )
    # A bar per full-model checkpoint would bury the table.
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model, results = run_benchmark(config)
    print(render(model, results, config))


if __name__ == "__main__":
    main()
