"""The closed loop through real processes (`llmops up`): corrections posted for a deployed model become a
sealed dataset, auto-retrain asks for a job, the trainer makes an adapter, the evaluator measures a gain
with a CI above 0 and starts a canary, live traffic is split, the monitor promotes the canary, and the
server serves the new adapter with no failed request during the swap, answering closer to the references."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.closed_loop import CORRECTIONS, MODEL, ClosedLoop, loop_settings
from tests.support.platform_run import platform_env, running_platform, wait_all_ready


@pytest.mark.timeout(900)
async def test_corrections_become_a_better_served_model(tmp_path: Path, tiny_model: Path) -> None:
    env = platform_env(tmp_path / "data", tiny_model, **loop_settings())
    with running_platform(env, tmp_path / "up.log") as platform:
        wait_all_ready(env, platform.kafka_port, timeout=180)
        try:
            record = await ClosedLoop(platform).run(timeout=600)
        except AssertionError:
            print_log_tails(tmp_path / "data" / "logs")
            raise

    sealed, request, completed = record.sealed, record.request, record.completed
    assert sealed is not None
    assert sealed.rows == CORRECTIONS
    assert sealed.trigger == "size"
    assert request is not None
    assert request.requested_by == "trainer:auto-retrain"
    assert request.dataset_version == sealed.version
    assert completed is not None
    assert completed.status == "succeeded", completed.error

    evaluation = record.evaluation
    assert evaluation is not None
    assert evaluation.gate_passed, evaluation.gate_reasons
    assert evaluation.deltas["token_f1"].low > 0
    assert evaluation.examples == sealed.eval_rows

    canary, promoted = record.canary, record.promoted
    assert canary is not None
    assert canary.candidate_adapter_version == completed.adapter_version
    assert canary.stable_adapter_version is None
    assert promoted is not None
    assert (promoted.model_name, promoted.adapter_version) == (MODEL, completed.adapter_version)

    traffic = record.traffic
    assert set(traffic.statuses) == {200}, traffic.statuses
    assert traffic.arms["candidate"] > 0
    assert traffic.arms["stable"] > 0
    assert record.f1_after > record.f1_before
    print(f"\nstages, seconds after the first correction: {record.marks}")
    print(f"token F1 on unseen questions: {record.f1_before:.3f} before, {record.f1_after:.3f} after")


def print_log_tails(logs: Path, lines: int = 15) -> None:
    """The end of each service's log, for a failed run."""
    for log in sorted(logs.glob("*.log")):
        print(f"--- {log.name}", *log.read_text(errors="replace").splitlines()[-lines:], sep="\n")
