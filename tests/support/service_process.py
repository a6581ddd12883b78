"""Runs one service as real processes (`python -m services.<name>`), as `llmops up` does: started, killed
with SIGKILL, stopped with SIGTERM and started again on the same data folder and port."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from llmops_common.local_kafka import free_port
from llmops_common.settings import REPO_ROOT

FAST_GROUP_SETTINGS = {
    # A killed member leaves its group after a second, so its successor gets the partitions quickly.
    "KAFKA_SESSION_TIMEOUT_MS": "1000",
    "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
    "HANDLER_BACKOFF_SECONDS": "0.01",
}


def service_env(bootstrap: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its `LLMOPS_` variables, then the broker, the data folder, quick
    group membership and any other `LLMOPS_` settings by name (`KAFKA_SESSION_TIMEOUT_MS="1000"`)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLMOPS_")}
    env |= {"LLMOPS_KAFKA_BOOTSTRAP": bootstrap, "LLMOPS_DATA_DIR": str(data_dir)}
    env |= {f"LLMOPS_{name}": value for name, value in {**FAST_GROUP_SETTINGS, **settings}.items()}
    return env


@dataclass
class ServiceProcess:
    """One process of a service and the file its output goes to."""

    service: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    @property
    def running(self) -> bool:
        """Whether the process has not exited."""
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine or the OOM killer takes the process."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as an orchestrator stops a service; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def pause(self) -> None:
        """Freezes the process (SIGSTOP): the kernel still accepts connections and buffers what they send."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Lets a paused process go on (SIGCONT)."""
        self.process.send_signal(signal.SIGCONT)

    def rss_bytes(self) -> int:
        """The process's resident memory now, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise LookupError(f"no VmRSS for process {self.process.pid}")


class ServiceLauncher:
    """Starts processes of one service on one environment and port, one after another (or side by side
    with `instance=`, each on a data folder and port of its own)."""

    def __init__(self, service: str, env: dict[str, str], folder: Path) -> None:
        self.service = service
        self._env = env
        self._folder = folder
        self._ports: dict[int, int] = {}
        self.started: list[ServiceProcess] = []

    def url(self, instance: int = 0) -> str:
        """The base URL of an instance; the same across its restarts."""
        return f"http://127.0.0.1:{self._port(instance)}"

    async def start_ready(self, timeout: float = 120.0, instance: int = 0) -> ServiceProcess:
        """Starts one process and waits until its `/readyz` answers 200."""
        started = self.start(instance)
        await wait_ready(started, timeout)
        return started

    def start(self, instance: int = 0) -> ServiceProcess:
        """Starts one process without waiting for it."""
        env = {**self._env, f"LLMOPS_{self.service.upper()}_PORT": str(self._port(instance))}
        if instance:
            env["LLMOPS_DATA_DIR"] = f"{env['LLMOPS_DATA_DIR']}-{instance}"
        log_path = self._folder / f"{self.service}-{instance}-{len(self.started) + 1}.log"
        with log_path.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.service}"],
                cwd=REPO_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started = ServiceProcess(self.service, process, log_path, self.url(instance))
        self.started.append(started)
        return started

    def kill_all(self) -> None:
        """Kills every process still running."""
        for started in self.started:
            if started.running:
                started.process.kill()
                started.process.wait(timeout=30)

    def print_logs(self) -> None:
        """Prints each process's output (pytest shows it when the test fails)."""
        for started in self.started:
            print(f"===== {started.log_path.name} (exit {started.process.returncode}) =====")
            print(started.log()[-20_000:])

    def _port(self, instance: int) -> int:
        if instance not in self._ports:
            self._ports[instance] = free_port()
        return self._ports[instance]


@contextmanager
def launched(service: str, env: dict[str, str], folder: Path) -> Iterator[ServiceLauncher]:
    """A launcher whose processes are killed when the block ends, whatever happened, their logs printed."""
    launcher = ServiceLauncher(service, env, folder)
    try:
        yield launcher
    finally:
        launcher.kill_all()
        launcher.print_logs()


async def wait_ready(started: ServiceProcess, timeout: float) -> None:
    """Waits until the process answers 200 on `/readyz`; fails if it exits first."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            assert started.running, f"{started.service} exited with {started.process.returncode}"
            try:
                if (await client.get(f"{started.url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            assert asyncio.get_running_loop().time() < deadline, f"{started.service} not ready after {timeout:g}s"
            await asyncio.sleep(0.2)
