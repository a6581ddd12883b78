"""The supervisor restarts a crashed process with growing backoff and stops every process it started."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from llmops_common.supervisor import ProcessSpec, Supervisor
from tests.support.processes import processes_with_env


def spec(tmp_path: Path, name: str, code: str) -> ProcessSpec:
    return ProcessSpec(name, [sys.executable, "-c", code], {"SUPERVISED_BY": str(tmp_path)}, tmp_path / f"{name}.log")


def run_for(supervisor: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.poll()
        time.sleep(0.01)


def test_a_crashing_process_is_restarted_with_backoff(tmp_path: Path) -> None:
    crasher = spec(tmp_path, "crasher", "print('started', flush=True); raise SystemExit(3)")
    supervisor = Supervisor([crasher], first_delay=0.1, max_delay=0.4)
    supervisor.start_all()
    try:
        # Delays 0.1, 0.2, 0.4, 0.4, ... give about four restarts in 1.3 s; a tight loop would give hundreds.
        run_for(supervisor, 1.3)
    finally:
        supervisor.stop_all()
    restarts = supervisor.restarts()["crasher"]
    assert 2 <= restarts <= 5
    assert crasher.log_file.read_text().count("started") in (restarts, restarts + 1)


def test_stop_all_leaves_no_process_even_one_ignoring_sigterm(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    polite = "import time; time.sleep(60)"
    supervisor = Supervisor([spec(tmp_path, "stubborn", stubborn), spec(tmp_path, "polite", polite)])
    supervisor.start_all()
    deadline = time.monotonic() + 10
    while "up" not in (tmp_path / "stubborn.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with_env(f"SUPERVISED_BY={tmp_path}")) == 2

    supervisor.stop_all(grace_seconds=0.5)

    assert processes_with_env(f"SUPERVISED_BY={tmp_path}") == {}
    assert supervisor.pids() == {"stubborn": None, "polite": None}
