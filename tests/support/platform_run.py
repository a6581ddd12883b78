"""Runs the whole platform as processes with `llmops up`, as a user does, for end-to-end tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llmops_common.local_kafka import free_port
from llmops_common.settings import SERVICE_NAMES
from tests.support.processes import processes_with_env

CLI = [sys.executable, "-m", "llmops_common.cli.main"]


def platform_env(data_dir: Path, base_model: Path, **settings: str) -> dict[str, str]:
    """An environment with free ports for every service, the given data folder, the given base model on the
    transformers engine (what `make up` installs), and any other `LLMOPS_` settings by name."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLMOPS_")}
    env["LLMOPS_DATA_DIR"] = str(data_dir)
    env["LLMOPS_BASE_MODEL"] = str(base_model)
    env["LLMOPS_ENGINE"] = "transformers"
    for name in SERVICE_NAMES:
        env[f"LLMOPS_{name.upper()}_PORT"] = str(free_port())
    env.update({f"LLMOPS_{name.upper()}": value for name, value in settings.items()})
    return env


@dataclass(frozen=True)
class RunningPlatform:
    """`llmops up` and where its broker listens."""

    process: subprocess.Popen[bytes]
    kafka_port: int
    env: dict[str, str]

    @property
    def kafka_bootstrap(self) -> str:
        """The local broker's address."""
        return f"127.0.0.1:{self.kafka_port}"

    def url(self, service: str) -> str:
        """A service's base URL."""
        return f"http://127.0.0.1:{self.env[f'LLMOPS_{service.upper()}_PORT']}"

    def dev_token(self) -> str:
        """The development admin key `up` issued (tenant `dev`)."""
        token: str = json.loads((Path(self.env["LLMOPS_DATA_DIR"]) / "dev-key.json").read_text())["token"]
        return token


@contextlib.contextmanager
def running_platform(env: dict[str, str], log: Path) -> Iterator[RunningPlatform]:
    """`llmops up` on a free Kafka port; whatever it leaves is killed afterwards."""
    kafka_port = free_port()
    with log.open("wb") as output:
        up = subprocess.Popen(
            [*CLI, "up", "--kafka-port", str(kafka_port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield RunningPlatform(up, kafka_port, env)
    finally:
        up.kill()
        up.wait()
        for pid in processes_with_env(f"LLMOPS_DATA_DIR={env['LLMOPS_DATA_DIR']}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def platform_status(env: dict[str, str], kafka_port: int) -> dict[str, object]:
    """What `llmops status --json` says."""
    env = {**env, "LLMOPS_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}"}
    result = subprocess.run([*CLI, "status", "--json"], env=env, capture_output=True, check=False, timeout=60)
    document: dict[str, object] = json.loads(result.stdout)
    return document


def wait_all_ready(env: dict[str, str], kafka_port: int, timeout: float) -> dict[str, object]:
    """Polls `llmops status --json` until every service is ready."""
    deadline = time.monotonic() + timeout
    while True:
        document = platform_status(env, kafka_port)
        services = document["services"]
        assert isinstance(services, dict)
        if all(service["health"] == "ready" for service in services.values()):
            return document
        assert time.monotonic() < deadline, f"not ready after {timeout}s: {services}"
        time.sleep(1)
