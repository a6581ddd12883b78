"""Runs one fine-tune on every process torchrun starts: data-parallel LoRA over CPUs (gloo) or GPUs (NCCL).

    torchrun --standalone --nproc-per-node=2 -m services.trainer.distributed --spec spec.json --result result.json

transformers' Trainer sees torchrun's environment and wraps the model in DDP. Each of the W processes
takes batch_size / W examples of every step, so the steps and the loss curve are those of one process.
Rank 0 prints progress and checkpoints as JSON lines on stdout, saves the adapter and writes the result
(`run_files.read_result` reads it). A cancel file, once it exists, stops the run after the current
step; its text is the reason. A cancelled run exits 0 too, its result file saying why: torchrun turns a
worker's other status into a failure of its own, which would hide the difference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch.distributed as dist

from llmops_common.settings import PlatformSettings

from .adapter_upload import finish_run, open_upload_store
from .lora_run import run_lora_training
from .run_files import read_spec_document, write_cancelled
from .run_hooks import ProgressReport, TrainingCancelledError


class JsonLineHooks:
    """Hooks that print progress and checkpoints as JSON lines and cancel when a file appears."""

    def __init__(self, cancel_file: Path | None) -> None:
        self.cancel_file = cancel_file

    def on_progress(self, report: ProgressReport) -> None:
        """Prints `{"event": "progress", ...the report}`."""
        print(json.dumps({"event": "progress", **dataclasses.asdict(report)}), flush=True)

    def on_checkpoint(self, step: int, folder: Path) -> None:
        """Prints `{"event": "checkpoint", "step": ..., "folder": ...}`."""
        print(json.dumps({"event": "checkpoint", "step": step, "folder": str(folder)}), flush=True)

    def cancel_reason(self) -> str | None:
        """The cancel file's text (or "cancelled" if it is empty), once it exists."""
        if self.cancel_file is None or not self.cancel_file.exists():
            return None
        return self.cancel_file.read_text().strip() or "cancelled"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the spec on this rank; returns the exit status."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True, help="the run's spec (run_files.write_spec)")
    parser.add_argument("--result", type=Path, required=True, help="where rank 0 writes the result")
    parser.add_argument("--cancel-file", type=Path, default=None, help="a file whose appearance cancels the run")
    parser.add_argument(
        "--no-upload",
        dest="upload",
        action="store_false",
        help="keep the adapter on disk only; by default rank 0 stores it in the artifact store (LLMOPS_ARTIFACT_URL)",
    )
    args = parser.parse_args(argv)
    rank_zero = int(os.environ.get("RANK", "0")) == 0
    document = read_spec_document(args.spec)
    # Only rank 0 writes the adapter, so only rank 0 needs the store.
    store = open_upload_store(PlatformSettings()) if rank_zero and args.upload else None
    try:
        result = run_lora_training(document.spec(), JsonLineHooks(args.cancel_file))
    except TrainingCancelledError as cancelled:
        if rank_zero:
            write_cancelled(cancelled.message, args.result)
        return 0
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    if rank_zero:
        finish_run(document, result, args.result, store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
