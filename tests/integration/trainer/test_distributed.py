"""The fine-tune under torchrun: two CPU processes (gloo) train the same steps as one process.

Both runs go through the same entry point on the CPU (the GPU hidden), one thread a process as torchrun
sets it, so the only difference is the world size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunResult, RunSpec, TrainingCancelledError
from services.trainer.run_files import read_result, write_spec
from tests.support.training_rows import learnable_rows

ENTRY_POINT = ["-m", "services.trainer.distributed"]
# --standalone: torchrun's rendezvous takes a free port of its own, so parallel test runs never collide.
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]


def run_spec(model: Path, work_dir: Path) -> RunSpec:
    # 24 rows in global batches of 4: six full steps, so no process ever gets a short or padded-out batch.
    return RunSpec(
        job_id="job-ddp",
        base_model=model,
        train_rows=learnable_rows(24),
        eval_rows=learnable_rows(4, split="eval"),
        hyperparameters=LoraHyperparameters(max_steps=6, batch_size=4, dropout=0.0),
        work_dir=work_dir,
        checkpoint_every_steps=3,
        progress_every_steps=1,
    )


def launch(launcher: list[str], folder: Path, spec: RunSpec, *extra: str) -> list[dict[str, object]]:
    folder.mkdir(parents=True, exist_ok=True)
    write_spec(spec, folder / "spec.json")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    args = [*ENTRY_POINT, "--spec", str(folder / "spec.json"), "--result", str(folder / "result.json"), *extra]
    done = subprocess.run([*launcher, *args], env=env, capture_output=True, text=True, timeout=240, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"event"')]
    assert done.returncode == 0, done.stderr[-4000:]
    return lines


@pytest.mark.timeout(600)
def test_two_processes_follow_the_loss_curve_of_one(tiny_model: Path, tmp_path: Path) -> None:
    single_lines = launch([sys.executable], tmp_path / "one", run_spec(tiny_model, tmp_path / "one"))
    ddp_lines = launch(TORCHRUN, tmp_path / "two", run_spec(tiny_model, tmp_path / "two"))
    single: RunResult = read_result(tmp_path / "one" / "result.json")
    ddp: RunResult = read_result(tmp_path / "two" / "result.json")

    assert [step for step, _ in ddp.loss_curve] == list(range(1, 7))
    # Each process takes half of every batch; transformers sums the loss over the tokens of both halves
    # and divides by their total count, so a step's loss and gradient are the one-process ones. What
    # differs is float32 summation order (an all-reduce, shorter padded rows): measured at 2e-7 relative
    # after six Adam steps, so 1e-4 leaves room while any real difference (data order, a batch
    # of the wrong size, per-process averaging) moves the loss by 1e-2 or more.
    assert [loss for _, loss in ddp.loss_curve] == pytest.approx([loss for _, loss in single.loss_curve], rel=1e-4)
    assert ddp.eval_loss == pytest.approx(single.eval_loss, rel=1e-4)
    assert ddp.tokens_trained == single.tokens_trained
    expected = load_file(single.adapter_dir / "adapter_model.safetensors")
    actual = load_file(ddp.adapter_dir / "adapter_model.safetensors")
    for name, tensor in expected.items():
        torch.testing.assert_close(actual[name], tensor, rtol=1e-3, atol=1e-5)

    # Only rank 0 reports: one line per step, one per checkpoint.
    assert [line["step"] for line in ddp_lines if line["event"] == "progress"] == [1, 2, 3, 4, 5, 6]
    assert [line["step"] for line in ddp_lines if line["event"] == "checkpoint"] == [3, 6]
    assert ddp_lines == [line for line in ddp_lines if line["event"] in ("progress", "checkpoint")]
    assert len(single_lines) == len(ddp_lines)


@pytest.mark.timeout(300)
def test_a_cancel_file_stops_every_process(tiny_model: Path, tmp_path: Path) -> None:
    cancel = tmp_path / "cancel"
    cancel.write_text("operator asked\n")
    lines = launch(TORCHRUN, tmp_path / "run", run_spec(tiny_model, tmp_path / "run"), "--cancel-file", str(cancel))
    with pytest.raises(TrainingCancelledError, match="operator asked"):
        read_result(tmp_path / "run" / "result.json")
    assert [(line["event"], line["step"]) for line in lines] == [("progress", 1)]
    assert not (tmp_path / "run" / "adapter").exists()
