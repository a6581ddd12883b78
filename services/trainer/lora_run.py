"""One LoRA fine-tune, start to adapter, on transformers' Trainer with a PEFT model.

The run is synchronous: the service calls it on a worker thread, the torchrun entry point on each
rank. It owns no Kafka and no artifact store: it reports through `RunHooks`, writes under the spec's
`work_dir`, and returns what it made.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel, Trainer, TrainingArguments, set_seed
from transformers.trainer_callback import PrinterCallback

from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from llmops_common.errors import PermanentError
from llmops_common.models.loading import load_causal_lm

from .checkpoint_flow import CheckpointFlowCallback
from .examples import ExampleDataset, PaddingCollator, TokenizedDataset, pad_token_id, tokenize_rows
from .held_out_loss import held_out_loss
from .hyperparameters import LoraHyperparameters
from .run_hooks import HooksCallback, NoHooks, ProgressReport, RunHooks, TrainingCancelledError

__all__ = [
    "ProgressReport",
    "RunHooks",
    "RunResult",
    "RunSpec",
    "TrainingCancelledError",
    "run_lora_training",
]

CHECKPOINTS_KEPT = 2
"""Checkpoint folders kept on disk; older ones are deleted as new ones are written."""


class NoTrainingExamplesError(PermanentError):
    """No row of the dataset gives a training example (none has a completion that fits)."""

    code = "no_training_examples"


@dataclass(frozen=True)
class RunSpec:
    """What to fine-tune, on what, and where to write.

    `batch_size` in the hyperparameters is the batch of one optimizer step over all processes (before
    gradient accumulation): under torchrun each of W processes takes batch_size / W examples, so the
    steps, and the loss curve, are those of one process.
    """

    job_id: str
    base_model: Path | str
    train_rows: list[dict[str, Any]]
    eval_rows: list[dict[str, Any]]
    hyperparameters: LoraHyperparameters
    work_dir: Path
    resume_from: Path | None = None
    checkpoint_every_steps: int = 50
    progress_every_steps: int = 10
    full_fine_tune: bool = False
    """Trains every weight instead of a LoRA adapter: only for the benchmark's comparison."""

    @property
    def checkpoints_dir(self) -> Path:
        """Where `checkpoint-<step>` folders are written."""
        return self.work_dir / "checkpoints"

    @property
    def output_dir(self) -> Path:
        """Where the finished adapter (or, fully fine-tuned, the model) is saved."""
        return self.work_dir / ("model" if self.full_fine_tune else "adapter")


@dataclass(frozen=True)
class RunResult:
    """What a finished run made and measured."""

    adapter_dir: Path
    """adapter_model.safetensors and adapter_config.json (a whole model's folder for a full fine-tune)."""
    steps: int
    train_loss: float
    """The mean loss of the last tenth of the steps (at least one): where training ended, less one batch's noise."""
    eval_loss: float | None
    """Mean loss per completion token on the eval rows; None when there are none."""
    tokens_trained: int
    """Tokens (prompt and completion, padding left out) of every step, resumed-past steps included."""
    tokens_per_second: float
    """Tokens of this session's steps over this session's training time."""
    duration_seconds: float
    loss_curve: list[tuple[int, float]]
    data_counts: dict[str, int] = field(default_factory=dict)
    """What became of the training rows: see `TokenizedDataset.counts`."""


def run_lora_training(spec: RunSpec, hooks: RunHooks | None = None) -> RunResult:
    """Trains, saves the adapter under `spec.work_dir` (rank 0 only under torchrun) and returns the result.

    Examples are cut to the smaller of `max_seq_length` and the model's context. Resuming from a
    checkpoint continues its step count, optimizer, scheduler, RNG and data order, so the result
    matches an uninterrupted run. Raises `TrainingCancelledError` when the hooks cancel,
    after the step in progress (and a checkpoint then due) has finished.
    """
    started = time.perf_counter()
    hp = spec.hyperparameters
    chat = HFChatTokenizer.from_pretrained(str(spec.base_model))
    set_seed(hp.seed)  # before the model: LoRA's A matrices start random
    model = load_training_model(spec)
    max_seq_length = min(hp.max_seq_length, int(getattr(model.config, "max_position_embeddings", hp.max_seq_length)))
    train = tokenize_rows(spec.train_rows, chat, chat.hf, max_seq_length)
    if not train.examples:
        raise NoTrainingExamplesError(f"none of the {train.rows} training rows gives an example: {train.counts()}")
    held_out = tokenize_rows(spec.eval_rows, chat, chat.hf, max_seq_length)
    collator = PaddingCollator(pad_token_id(chat.hf))
    callback = HooksCallback(hooks or NoHooks(), spec.progress_every_steps)
    trainer = Trainer(
        model=model,
        args=training_arguments(spec),
        train_dataset=ExampleDataset(train.examples),
        data_collator=collator,
        callbacks=[callback, CheckpointFlowCallback(spec.job_id, str(spec.base_model))],
    )
    # With progress bars off, Trainer prints every log line to stdout; progress goes through the hooks.
    trainer.remove_callback(PrinterCallback)
    output = trainer.train(resume_from_checkpoint=str(spec.resume_from) if spec.resume_from else None)
    if callback.cancel_reason is not None:
        raise TrainingCancelledError(callback.cancel_reason)
    eval_loss = None
    if trainer.is_world_process_zero():
        eval_loss = held_out_loss(model, held_out.examples, collator, _per_device_batch(hp))
        _save(model, spec.output_dir)
    session_tokens = trainer.state.num_input_tokens_seen - callback.session_start_tokens
    return _result(spec, trainer, train, eval_loss, session_tokens / output.metrics["train_runtime"], started)


def training_arguments(spec: RunSpec) -> TrainingArguments:
    """Trainer's arguments for the spec: checkpoints every K steps, a log line every step, no reporting."""
    hp = spec.hyperparameters
    distributed = _world_size() > 1
    gpu = _use_gpu()
    return TrainingArguments(
        output_dir=str(spec.checkpoints_dir),
        per_device_train_batch_size=_per_device_batch(hp),
        gradient_accumulation_steps=hp.gradient_accumulation_steps,
        num_train_epochs=hp.epochs,
        max_steps=hp.max_steps or -1,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler,
        warmup_steps=hp.warmup_ratio,  # a float below 1 is a share of the steps
        weight_decay=hp.weight_decay,
        seed=hp.seed,
        data_seed=hp.seed,
        save_strategy="steps",
        save_steps=spec.checkpoint_every_steps,
        save_total_limit=CHECKPOINTS_KEPT,
        logging_strategy="steps",
        logging_steps=1,
        # The service logs to MLflow itself, with the platform's names; Trainer must not report anywhere.
        report_to=[],
        disable_tqdm=True,
        use_cpu=not gpu,
        bf16=gpu and torch.cuda.is_bf16_supported(),
        include_num_input_tokens_seen="non_padding",
        dataloader_drop_last=False,
        remove_unused_columns=False,
        ddp_backend=("nccl" if gpu else "gloo") if distributed else None,
        ddp_find_unused_parameters=False if distributed else None,
    )


def load_training_model(spec: RunSpec) -> PreTrainedModel | PeftModel:
    """The base model in float32, wrapped for LoRA as the hyperparameters say (bare for a full fine-tune).

    LoRA's A factors start random: seed the RNG first (`transformers.set_seed`) for a reproducible start.
    """
    model = load_causal_lm(spec.base_model, dtype=torch.float32)
    if spec.full_fine_tune:
        return model
    hp = spec.hyperparameters
    config = LoraConfig(
        task_type="CAUSAL_LM",
        r=hp.r,
        lora_alpha=hp.alpha,
        lora_dropout=hp.dropout,
        target_modules=hp.peft_target_modules(),
    )
    return get_peft_model(model, config)


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _use_gpu() -> bool:
    # One GPU per local process, as NCCL needs; fewer GPUs than processes train on the CPUs (gloo).
    return torch.cuda.is_available() and torch.cuda.device_count() >= int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def _per_device_batch(hp: LoraHyperparameters) -> int:
    world = _world_size()
    if hp.batch_size % world:
        raise PermanentError(f"batch_size {hp.batch_size} does not split evenly over {world} processes")
    return hp.batch_size // world


def _save(model: torch.nn.Module, folder: Path) -> None:
    if isinstance(model, PeftModel):
        model.save_pretrained(str(folder), safe_serialization=True)
    elif isinstance(model, PreTrainedModel):
        model.save_pretrained(folder)
    else:
        raise TypeError(f"cannot save a {type(model).__name__}")


def _result(
    spec: RunSpec,
    trainer: Trainer,
    train: TokenizedDataset,
    eval_loss: float | None,
    tokens_per_second: float,
    started: float,
) -> RunResult:
    curve = [(int(entry["step"]), float(entry["loss"])) for entry in trainer.state.log_history if "loss" in entry]
    tail = curve[-max(1, math.ceil(len(curve) / 10)) :]
    return RunResult(
        adapter_dir=spec.output_dir,
        steps=trainer.state.global_step,
        train_loss=sum(loss for _, loss in tail) / len(tail) if tail else math.nan,
        eval_loss=eval_loss,
        tokens_trained=int(trainer.state.num_input_tokens_seen),
        tokens_per_second=tokens_per_second,
        duration_seconds=time.perf_counter() - started,
        loss_curve=curve,
        data_counts=train.counts(),
    )
