"""Times the whole closed loop on 2 CPUs: from the first correction to the promoted adapter being served.

Run it with `python -m tests.bench.bench_closed_loop` (what `make bench` calls). It starts the platform
with `llmops up` on the small test model and drives the loop as the end-to-end test does
(`tests/support/closed_loop.py`): 100 corrections, a size-sealed feedback dataset, auto-retrain, an
80-step LoRA job, the evaluation and its gate, a 50% canary judged by the monitor every 2 s, the promotion.
Goal: under 10 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.report import Row, table, verdict
from tests.support.closed_loop import ClosedLoop, LoopRecord, loop_settings
from tests.support.platform_run import platform_env, running_platform, wait_all_ready
from tests.support.tiny_models import tiny_model_folder

GOAL_SECONDS = 600.0
STAGES = (
    ("corrected", "100 answers and their corrections posted"),
    ("sealed", "feedback dataset sealed (size policy)"),
    ("training_requested", "auto-retrain asked for a job"),
    ("trained", "adapter trained and stored"),
    ("evaluated", "evaluated and gated"),
    ("canary_started", "canary started"),
    ("promoted", "monitor promoted the canary"),
    ("serving_promoted", "promoted adapter serving all traffic"),
)


def render(record: LoopRecord) -> str:
    """The printed table: each stage's time since the first correction, and the goal."""
    rows: list[Row] = [("stage", "seconds after the first correction")]
    rows += [(label, f"{record.marks[key]:.1f}") for key, label in STAGES if key in record.marks]
    total = record.marks.get("serving_promoted", float("inf"))
    rows.append((f"goal < {GOAL_SECONDS:.0f} s", verdict(total < GOAL_SECONDS)))
    header = (
        f"Closed loop, tiny test model, 2 CPUs, {datetime.now(UTC):%Y-%m-%d}; token F1 on 12 unseen questions "
        f"{record.f1_before:.3f} before, {record.f1_after:.3f} after; live traffic statuses "
        f"{dict(record.traffic.statuses)}"
    )
    return table(header, rows)


async def run_benchmark(work: Path) -> LoopRecord:
    """One run of the loop on a fresh platform in `work`."""
    model = tiny_model_folder(Path(tempfile.gettempdir()) / "llmops-bench-models")
    env = platform_env(work / "data", model, **loop_settings())
    with running_platform(env, work / "up.log") as platform:
        await asyncio.to_thread(wait_all_ready, env, platform.kafka_port, 180)
        return await ClosedLoop(platform).run(timeout=GOAL_SECONDS * 2)


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the loop once and prints the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llmops-loop-") as work:
        print(render(asyncio.run(run_benchmark(Path(work)))))


if __name__ == "__main__":
    main()
