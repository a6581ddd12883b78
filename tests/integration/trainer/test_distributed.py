"""The fine-tune under torchrun: two CPU processes (gloo) train the same steps as one process.

Both runs go through the same entry point on the CPU (the GPU hidden), one thread a process as torchrun
sets it, so the only difference is the world size. The two-process run stores its adapter, card included,
in the artifact store its environment names; the one-process run keeps it on disk (`--no-upload`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from llmops_common.settings import PlatformSettings
from llmops_common.storage.artifacts import open_artifact_store
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunResult, RunSpec, TrainingCancelledError
from services.trainer.run_files import read_result, read_stored_adapter, write_spec
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


def launch(
    launcher: list[str], folder: Path, spec: RunSpec, *extra: str, store_url: str | None = None
) -> list[dict[str, object]]:
    folder.mkdir(parents=True, exist_ok=True)
    write_spec(spec, folder / "spec.json", model_name="support-assistant", dataset="support-faq@v3")
    # The processes read the store from LLMOPS_* as a pod does: this test's own, never the caller's.
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("LLMOPS_")}
    env = {**inherited, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "LLMOPS_DATA_DIR": str(folder / "data")}
    if store_url is not None:
        env["LLMOPS_ARTIFACT_URL"] = store_url
    args = [*ENTRY_POINT, "--spec", str(folder / "spec.json"), "--result", str(folder / "result.json"), *extra]
    done = subprocess.run([*launcher, *args], env=env, capture_output=True, text=True, timeout=240, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"event"')]
    assert done.returncode == 0, done.stderr[-4000:]
    return lines


@pytest.mark.timeout(600)
def test_two_processes_follow_the_loss_curve_of_one(tiny_model: Path, tmp_path: Path) -> None:
    one, two, store_url = tmp_path / "one", tmp_path / "two", (tmp_path / "store").as_uri()
    single_lines = launch([sys.executable], one, run_spec(tiny_model, one), "--no-upload")
    ddp_lines = launch(TORCHRUN, two, run_spec(tiny_model, two), store_url=store_url)
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

    # --no-upload: the card lies beside the adapter, and nothing went to a store.
    assert read_stored_adapter(one / "result.json") is None
    assert (single.adapter_dir / "README.md").is_file()
    assert not (one / "data").exists()
    # The two-process run's adapter is in the store LLMOPS_ARTIFACT_URL names, and unpacks whole.
    ref = read_stored_adapter(two / "result.json")
    assert ref is not None
    store = open_artifact_store(PlatformSettings(artifact_url=store_url))
    assert store.exists(ref)
    unpacked = store.fetch_folder(ref, tmp_path / "unpacked")
    assert sorted(path.name for path in unpacked.iterdir()) == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    assert load_file(unpacked / "adapter_model.safetensors").keys() == actual.keys()
    card = (unpacked / "README.md").read_text()
    front = yaml.safe_load(card.removeprefix("---\n").split("\n---\n", 1)[0])
    assert front["base_model"] == str(tiny_model)
    assert front["datasets"] == ["support-faq@v3"]
    assert front["llmops"]["model_name"] == "support-assistant"
    assert front["llmops"]["steps"] == 6


@pytest.mark.timeout(300)
def test_a_cancel_file_stops_every_process(tiny_model: Path, tmp_path: Path) -> None:
    cancel = tmp_path / "cancel"
    cancel.write_text("operator asked\n")
    lines = launch(TORCHRUN, tmp_path / "run", run_spec(tiny_model, tmp_path / "run"), "--cancel-file", str(cancel))
    with pytest.raises(TrainingCancelledError, match="operator asked"):
        read_result(tmp_path / "run" / "result.json")
    assert [(line["event"], line["step"]) for line in lines] == [("progress", 1)]
    assert not (tmp_path / "run" / "adapter").exists()
    # The default store (<LLMOPS_DATA_DIR>/artifacts) was opened before training, and holds nothing.
    assert (tmp_path / "run" / "data" / "artifacts").is_dir()
    assert not list((tmp_path / "run" / "data" / "artifacts").rglob("sha256/*/*"))
