"""`llmops up` in a child process, on free ports and a data folder of the demo's own.

The demo never touches the user's platform: its own broker, ports and stores, so it runs beside `make up`
and every run starts from nothing. It runs on the embedded defaults whatever the shell points at.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..auth.dev_key import dev_key_path
from ..cli.health_probe import probe_all
from ..local_kafka import free_port
from ..settings import SERVICE_NAMES, PlatformSettings

EXTERNAL_STORES = ("LLMOPS_KAFKA_BOOTSTRAP", "LLMOPS_CLICKHOUSE_URL", "LLMOPS_QDRANT_URL", "LLMOPS_ARTIFACT_URL")
"""Settings that would point the demo at the user's own broker or stores: left out."""
STOP_SECONDS = 60.0


class PlatformFailedError(RuntimeError):
    """`llmops up` exited, or a service was not ready in time."""


@dataclass(frozen=True)
class DemoPlatform:
    """The running platform: where each service listens, and its development key."""

    process: subprocess.Popen[bytes]
    settings: PlatformSettings
    log: Path

    def url(self, service: str) -> str:
        """A service's base URL."""
        return self.settings.url_of(service)

    def dev_token(self) -> str:
        """The admin key of the tenant `dev` that `up` issued."""
        token: str = json.loads(dev_key_path(self.settings.data_dir).read_text())["token"]
        return token

    def failure(self, why: str) -> PlatformFailedError:
        """An error naming the logs to read."""
        return PlatformFailedError(f"{why}; see {self.log} and {self.settings.data_dir / 'logs'}")


def demo_environment(data_dir: Path, settings: Mapping[str, str]) -> tuple[dict[str, str], PlatformSettings]:
    """The child's environment (free ports, `data_dir`, the `LLMOPS_` settings given by field name) and
    the same settings as this process reads them."""
    env = {key: value for key, value in os.environ.items() if key not in EXTERNAL_STORES}
    ports = {f"{name}_port": free_port() for name in SERVICE_NAMES}
    fields = {"data_dir": str(data_dir.resolve()), **{k: str(v) for k, v in ports.items()}, **settings}
    env.update({f"LLMOPS_{name.upper()}": value for name, value in fields.items()})
    # The transformers engine, as `make up` installs it, unless the user picked one.
    env.setdefault("LLMOPS_ENGINE", "transformers")
    kafka_bootstrap = f"127.0.0.1:{free_port()}"
    own = PlatformSettings(
        data_dir=data_dir.resolve(),
        kafka_bootstrap=kafka_bootstrap,
        clickhouse_url=None,
        qdrant_url=None,
        artifact_url=None,
    ).model_copy(update=ports)
    return env, own


@contextlib.contextmanager
def running_platform(env: dict[str, str], settings: PlatformSettings, log: Path) -> Iterator[DemoPlatform]:
    """`llmops up` until the block ends, then stopped as Ctrl-C stops it (killed if it lingers)."""
    kafka_port = settings.kafka_bootstrap.rsplit(":", 1)[1]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI, by the running interpreter
            [sys.executable, "-m", "llmops_common.cli.main", "up", "--kafka-port", kafka_port],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops `up` in order
        )
    try:
        yield DemoPlatform(process, settings, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(platform: DemoPlatform, timeout: float, on_count: Callable[[int], None]) -> None:
    """Polls every service's `/readyz` until all are ready; `on_count` hears how many are."""
    deadline = time.monotonic() + timeout
    while True:
        if platform.process.poll() is not None:
            raise platform.failure(f"llmops up exited with status {platform.process.returncode}")
        ready = sum(service.health == "ready" for service in probe_all(platform.settings, 1.0))
        on_count(ready)
        if ready == len(SERVICE_NAMES):
            return
        if time.monotonic() > deadline:
            raise platform.failure(f"only {ready} of {len(SERVICE_NAMES)} services ready after {timeout:.0f} s")
        time.sleep(0.5)
