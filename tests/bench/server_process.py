"""Servers that benchmarks run as processes of their own: start, wait until ready, stop, and weigh."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from llmops_common.local_kafka import free_port
from llmops_common.process_stop import stop_process
from llmops_common.settings import REPO_ROOT

START_TIMEOUT_SECONDS = 240.0


@dataclass(frozen=True)
class RunningServer:
    """A started server: its name, URL, readiness path and process."""

    name: str
    url: str
    ready_path: str
    process: subprocess.Popen[bytes]

    def wait_ready(self) -> None:
        """Returns once the readiness path answers 200; raises if the process ends or takes too long."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _ready(f"{self.url}{self.ready_path}"):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} stopped while starting (exit status {self.process.returncode})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not get ready in {START_TIMEOUT_SECONDS:g} s")
            time.sleep(0.2)


@contextmanager
def running_process(
    name: str, command: Sequence[str], environment: dict[str, str], port: int, ready_path: str
) -> Iterator[RunningServer]:
    """`command` as a process, stopped when the block ends. It yields at once, so that several servers can
    start side by side; `wait_ready` waits for one."""
    process = subprocess.Popen(list(command), env=environment, cwd=REPO_ROOT)
    try:
        yield RunningServer(name, f"http://127.0.0.1:{port}", ready_path, process)
    finally:
        stop_process(process, grace_seconds=60)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_model_server(
    model: Path, model_name: str, bootstrap: str, data_dir: Path, *, wait: bool = True, **settings: str
) -> Iterator[RunningServer]:
    """Our model server (`python -m services.model_server`) on a free port, ready unless `wait` is false;
    `settings` are more `LLMOPS_*` values by lower-case name, e.g. `engine="vllm"`."""
    port = free_port()
    environment = {
        **os.environ,
        "LLMOPS_KAFKA_BOOTSTRAP": bootstrap,
        "LLMOPS_DATA_DIR": str(data_dir),
        "LLMOPS_BASE_MODEL": str(model),
        "LLMOPS_BASE_MODEL_NAME": model_name,
        "LLMOPS_MODEL_SERVER_PORT": str(port),
        "LLMOPS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{REPO_ROOT / 'libs' / 'common'}{os.pathsep}{REPO_ROOT}",
        **{f"LLMOPS_{key.upper()}": value for key, value in settings.items()},
    }
    command = [sys.executable, "-m", "services.model_server"]
    with running_process("the model server", command, environment, port, "/readyz") as server:
        if wait:
            server.wait_ready()
        yield server


def tree_peak_rss_bytes(pid: int) -> int:
    """The peak resident memory (VmHWM) of `pid` and every process below it, summed.

    vLLM runs its engine core as a child process, so the server's own figure would miss most of it. Each
    process's own peak is summed, which can overstate the tree's peak when they peaked at different times.
    """
    return sum(_status_kib(p, "VmHWM") for p in [pid, *_descendants(pid)]) * 1024


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The parent is the 2nd field after the command, which sits in parentheses and may hold spaces.
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone already
            parents.setdefault(parent, []).append(int(entry.name))
    found, pending = [], list(parents.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(parents.get(child, []))
    return found


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass  # gone already
    return 0
