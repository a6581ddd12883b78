"""Real LoRA fine-tunes of the tiny test model: the loss falls, hooks hear progress and complete
checkpoints, a cancel stops the run, and a resumed run ends where an uninterrupted one does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from llmops_common.engines.hf_tokenizer import HFChatTokenizer
from services.trainer.examples import tokenize_rows
from services.trainer.hyperparameters import LoraHyperparameters
from services.trainer.lora_run import RunResult, RunSpec, TrainingCancelledError, run_lora_training
from tests.integration.trainer.recording_hooks import CHECKPOINT_FILES, RecordingHooks
from tests.support.training_rows import learnable_rows

ROWS = learnable_rows(48)
EVAL_ROWS = learnable_rows(8, split="eval")


def spec(model: Path, work_dir: Path, **overrides: object) -> RunSpec:
    fields: dict[str, object] = {
        "job_id": "job-1",
        "base_model": model,
        "train_rows": ROWS,
        "eval_rows": EVAL_ROWS,
        "hyperparameters": LoraHyperparameters(max_steps=30, batch_size=8),
        "work_dir": work_dir,
        "checkpoint_every_steps": 10,
        "progress_every_steps": 10,
    }
    fields.update(overrides)
    return RunSpec(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RecordingHooks]:
    hooks = RecordingHooks()
    return run_lora_training(spec(tiny_model, tmp_path_factory.mktemp("run")), hooks), hooks


def test_thirty_steps_lower_the_loss_on_a_learnable_set(trained: tuple[RunResult, RecordingHooks]) -> None:
    result, _ = trained
    assert result.steps == 30
    assert [step for step, _ in result.loss_curve] == list(range(1, 31))
    first, last = result.loss_curve[:5], result.loss_curve[-5:]
    assert sum(loss for _, loss in last) / 5 < 0.7 * sum(loss for _, loss in first) / 5
    assert result.train_loss == pytest.approx(sum(loss for _, loss in result.loss_curve[-3:]) / 3)
    assert result.eval_loss is not None
    assert result.eval_loss < result.loss_curve[0][1]


def test_every_token_of_every_step_is_counted(trained: tuple[RunResult, RecordingHooks], tiny_model: Path) -> None:
    result, _ = trained
    chat = HFChatTokenizer.from_pretrained(str(tiny_model))
    dataset = tokenize_rows(ROWS, chat, chat.hf, 512)
    # 48 rows in batches of 8: 30 steps are exactly five epochs.
    assert result.tokens_trained == 5 * dataset.tokens
    assert result.tokens_per_second > 0
    assert result.data_counts == {
        "rows": 48,
        "examples": 48,
        "truncated": 0,
        "dropped_too_long": 0,
        "dropped_no_completion": 0,
    }


def test_the_adapter_is_saved_as_peft_safetensors_and_changes_the_model(
    trained: tuple[RunResult, RecordingHooks], tiny_model: Path
) -> None:
    result, _ = trained
    assert {"adapter_model.safetensors", "adapter_config.json"} <= {p.name for p in result.adapter_dir.iterdir()}
    config = json.loads((result.adapter_dir / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], config["task_type"]) == (8, 16, "CAUSAL_LM")
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    ids = torch.tensor([[1, 4, 204, 77, 78, 2, 204, 5, 204]])
    with torch.no_grad():
        before = base(input_ids=ids).logits
        after = PeftModel.from_pretrained(base, result.adapter_dir)(input_ids=ids).logits
    assert not torch.allclose(before, after, atol=1e-3)


def test_progress_is_reported_every_k_steps_and_at_the_end(trained: tuple[RunResult, RecordingHooks]) -> None:
    result, hooks = trained
    assert [r.step for r in hooks.reports] == [10, 20, 30]
    assert all(r.total_steps == 30 for r in hooks.reports)
    assert [r.loss for r in hooks.reports] == [dict(result.loss_curve)[s] for s in (10, 20, 30)]
    assert all(r.learning_rate is not None and r.learning_rate > 0 for r in hooks.reports)
    assert all(r.tokens_per_second is not None and r.tokens_per_second > 0 for r in hooks.reports)
    assert hooks.reports[-1].eta_seconds == 0
    assert all(r.eta_seconds is not None and r.eta_seconds > 0 for r in hooks.reports[:-1])


def test_each_checkpoint_is_handed_over_complete(trained: tuple[RunResult, RecordingHooks]) -> None:
    _, hooks = trained
    assert [(step, folder.name) for step, folder, _ in hooks.checkpoints] == [
        (10, "checkpoint-10"),
        (20, "checkpoint-20"),
        (30, "checkpoint-30"),
    ]
    for step, folder, files in hooks.checkpoints:
        assert files >= {*CHECKPOINT_FILES, "README.md"}
        if folder.exists():  # older checkpoints are rotated away once two newer ones exist
            assert json.loads((folder / "trainer_state.json").read_text())["global_step"] == step


def test_progress_every_four_steps_still_reports_the_last(tiny_model: Path, tmp_path: Path) -> None:
    hooks = RecordingHooks()
    hp = LoraHyperparameters(max_steps=9, batch_size=8)
    run_lora_training(spec(tiny_model, tmp_path, hyperparameters=hp, progress_every_steps=4), hooks)
    assert [r.step for r in hooks.reports] == [4, 8, 9]
    # Checkpoints are on the every-10-steps grid only; the adapter itself is the last step's state.
    assert hooks.checkpoints == []


def test_a_cancel_stops_after_the_step_and_saves_no_adapter(tiny_model: Path, tmp_path: Path) -> None:
    hooks = RecordingHooks(cancel_after_steps=3, reason="cancelled by alice")
    run = spec(tiny_model, tmp_path, progress_every_steps=100)
    with pytest.raises(TrainingCancelledError, match="cancelled by alice"):
        run_lora_training(run, hooks)
    assert hooks.polls == 3
    assert [(r.step, r.total_steps) for r in hooks.reports] == [(3, 30)]
    assert not run.output_dir.exists()


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tiny_model: Path, tmp_path: Path) -> None:
    # Dropout on, and 24 rows in batches of 4 (6 steps an epoch): the resume at step 8 must bring back the
    # RNG and continue mid-epoch in the same data order, not only the weights and the optimizer.
    hp = LoraHyperparameters(max_steps=12, batch_size=4, dropout=0.1, warmup_ratio=0.2, lr_scheduler="cosine")
    rows = learnable_rows(24)
    straight = run_lora_training(
        spec(tiny_model, tmp_path / "straight", hyperparameters=hp, train_rows=rows, checkpoint_every_steps=100)
    )

    interrupted = spec(tiny_model, tmp_path / "first", hyperparameters=hp, train_rows=rows, checkpoint_every_steps=4)
    with pytest.raises(TrainingCancelledError):
        run_lora_training(interrupted, RecordingHooks(cancel_after_steps=8))
    checkpoint = interrupted.checkpoints_dir / "checkpoint-8"
    assert {p.name for p in checkpoint.iterdir()} >= CHECKPOINT_FILES

    # A new work folder, as after the checkpoint was fetched from the artifact store by another trainer.
    resumed = run_lora_training(
        spec(tiny_model, tmp_path / "second", hyperparameters=hp, train_rows=rows, resume_from=checkpoint)
    )

    assert resumed.steps == 12
    assert [step for step, _ in resumed.loss_curve] == list(range(1, 13))
    # Float32 on the same machine and the same kernels: only summation order could differ, far below 1e-5.
    assert [loss for _, loss in resumed.loss_curve[8:]] == pytest.approx(
        [loss for _, loss in straight.loss_curve[8:]], rel=1e-5
    )
    expected = load_file(straight.adapter_dir / "adapter_model.safetensors")
    actual = load_file(resumed.adapter_dir / "adapter_model.safetensors")
    assert expected.keys() == actual.keys()
    for name, tensor in expected.items():
        torch.testing.assert_close(actual[name], tensor, rtol=1e-4, atol=1e-6)
