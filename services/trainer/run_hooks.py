"""What a training run tells its caller while it runs, and the Trainer callback that tells it.

The caller (the trainer service, or the torchrun entry point) sees progress, each complete checkpoint,
and may stop the run; it never sees transformers' own types.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from llmops_common.errors import PermanentError


class TrainingCancelledError(PermanentError):
    """The run stopped because its caller asked it to; the message is the caller's reason."""

    code = "cancelled"


@dataclass(frozen=True)
class ProgressReport:
    """Where a run stands after `step` of `total_steps` optimizer steps.

    `loss` and `learning_rate` are those of step `step`; throughput and the ETA count this process's
    session only (a resumed run does not count the steps it resumed past).
    """

    step: int
    total_steps: int
    loss: float | None
    learning_rate: float | None
    tokens_per_second: float | None
    eta_seconds: float | None


class RunHooks(Protocol):
    """The caller's side of a run. Each method is called on the training thread, between steps."""

    def on_progress(self, report: ProgressReport) -> None:
        """Every `progress_every_steps` steps, and at the last step of the run."""

    def on_checkpoint(self, step: int, folder: Path) -> None:
        """A checkpoint folder is complete on disk. It stays there until two later checkpoints exist."""

    def cancel_reason(self) -> str | None:
        """Polled after every step: a reason stops the run, which then raises `TrainingCancelledError`."""


class NoHooks:
    """Hooks that watch nothing and never cancel."""

    def on_progress(self, report: ProgressReport) -> None:
        """Ignores the report."""

    def on_checkpoint(self, step: int, folder: Path) -> None:
        """Ignores the checkpoint."""

    def cancel_reason(self) -> str | None:
        """Never cancels."""
        return None


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class HooksCallback(TrainerCallback):
    """Calls `RunHooks` from inside transformers' Trainer.

    Under torchrun every rank runs it: a cancel on any rank stops all of them at the same step (else the
    others would wait forever in the next gradient all-reduce), and only rank 0 reports.
    """

    def __init__(self, hooks: RunHooks, progress_every_steps: int) -> None:
        self.hooks = hooks
        self.progress_every_steps = max(1, progress_every_steps)
        self.cancel_reason: str | None = None
        self._started = time.perf_counter()
        self._first_step = 0
        self.session_start_tokens = 0
        """Tokens seen before this session: those of the steps a resumed run skipped."""

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        """Marks where this session starts, so that throughput leaves out steps resumed past."""
        self._started = time.perf_counter()
        self._first_step = state.global_step
        self.session_start_tokens = state.num_input_tokens_seen

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        """Polls for a cancel; the Trainer ends the step (logging, a due checkpoint) and then stops."""
        reason = self.hooks.cancel_reason()
        if _distributed():
            flag = torch.tensor([1 if reason is not None else 0], device=args.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            if flag.item() and reason is None:
                reason = "cancelled on another rank"
        if reason is not None:
            self.cancel_reason = reason
            control.should_training_stop = True

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        """Reports a logged step every `progress_every_steps` steps and at the run's last step."""
        if not logs or "loss" not in logs or not state.is_world_process_zero:
            return
        step = state.global_step
        last = step >= state.max_steps or self.cancel_reason is not None
        if step % self.progress_every_steps and not last:
            return
        elapsed = time.perf_counter() - self._started
        steps_done = step - self._first_step
        tokens = state.num_input_tokens_seen - self.session_start_tokens
        self.hooks.on_progress(
            ProgressReport(
                step=step,
                total_steps=state.max_steps,
                loss=logs["loss"],
                learning_rate=logs.get("learning_rate"),
                tokens_per_second=tokens / elapsed if tokens and elapsed > 0 else None,
                eta_seconds=(state.max_steps - step) * elapsed / steps_done if steps_done > 0 else None,
            )
        )

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        """Hands over the checkpoint once every rank has written its part (each writes its own RNG state)."""
        if _distributed():
            dist.barrier()
        if state.is_world_process_zero:
            folder = Path(args.output_dir or ".") / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
            self.hooks.on_checkpoint(state.global_step, folder)
