"""Run hooks that remember what a run told them, and cancel after a set number of steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from services.trainer.run_hooks import ProgressReport

CHECKPOINT_FILES = frozenset(
    {
        "adapter_model.safetensors",
        "adapter_config.json",
        "optimizer.pt",
        "scheduler.pt",
        "rng_state.pth",
        "trainer_state.json",
    }
)
"""What a LoRA checkpoint needs for a resume: the adapter, the optimizer, the schedule, the RNG, the step."""


@dataclass
class RecordingHooks:
    """Keeps every report and, at each checkpoint call, the files then in the folder."""

    cancel_after_steps: int | None = None
    reason: str = "stopped by the test"
    reports: list[ProgressReport] = field(default_factory=list)
    checkpoints: list[tuple[int, Path, frozenset[str]]] = field(default_factory=list)
    polls: int = 0

    def on_progress(self, report: ProgressReport) -> None:
        self.reports.append(report)

    def on_checkpoint(self, step: int, folder: Path) -> None:
        self.checkpoints.append((step, folder, frozenset(p.name for p in folder.iterdir())))

    def cancel_reason(self) -> str | None:
        # The run polls once per optimizer step, so the count of polls is the step just finished.
        self.polls += 1
        if self.cancel_after_steps is not None and self.polls >= self.cancel_after_steps:
            return self.reason
        return None
