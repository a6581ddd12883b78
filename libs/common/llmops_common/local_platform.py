"""The whole platform on one machine, for `llmops up`: a local broker when none is configured, the
catalog's topics, and every service as its own supervised process.

The admin development key goes only to the broker `up` started itself, which keeps nothing past its
run. On a broker of the user's, perhaps a production one, it would be an admin key that outlives
the session and opens every service; there it goes only when asked (`--publish-dev-key`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .auth.dev_key import load_or_issue_dev_key
from .kafka.admin import catalog_topics, create_topics
from .kafka.one_shot import publish_once
from .local_kafka import running_tansu, wait_for_port
from .settings import REPO_ROOT, SERVICE_NAMES, PlatformSettings
from .supervisor import ProcessSpec, Supervisor


class PortBusyError(RuntimeError):
    """The local broker's port is taken, probably by a platform that already runs."""


def kafka_is_configured() -> bool:
    """Whether the user points us at a broker of their own (then `up` starts none)."""
    return "LLMOPS_KAFKA_BOOTSTRAP" in os.environ


@contextmanager
def local_broker(port: int, log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Runs Tansu on loopback for as long as the block lasts."""
    try:
        wait_for_port("127.0.0.1", port, timeout=0)
    except TimeoutError:
        pass
    else:
        raise PortBusyError(f"port {port} is in use; stop what runs there, or set LLMOPS_KAFKA_BOOTSTRAP to use it")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with running_tansu(port, log_file=log_file) as broker:
        yield broker


def service_specs(settings: PlatformSettings, log_dir: Path) -> list[ProcessSpec]:
    """One process per service, each told where Kafka is."""
    env = {**os.environ, "LLMOPS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "PYTHONUNBUFFERED": "1"}
    # Children resolve a relative data folder against their working folder, which is ours.
    env["LLMOPS_DATA_DIR"] = str(settings.data_dir.resolve())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return [
        ProcessSpec(name, [sys.executable, "-m", f"services.{name}"], env, log_dir / f"{name}.log")
        for name in SERVICE_NAMES
    ]


def wait_for_stop_signal() -> threading.Event:
    """An event that SIGINT (Ctrl-C) or SIGTERM sets, instead of raising in the middle of our work."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    return stop


def run_platform(
    settings: PlatformSettings,
    *,
    kafka_port: int,
    stop: threading.Event,
    on_started: Callable[[PlatformSettings, str | None], None],
    publish_dev_key: bool = False,
) -> int:
    """Runs everything until `stop` is set; returns the exit code (1 when the local broker died).

    `on_started` gets the development key's token when it was published: always on the local broker,
    on a configured one only with `publish_dev_key`.
    """
    log_dir = settings.data_dir / "logs"
    with _broker_for(settings, kafka_port, log_dir) as (settings, broker):
        asyncio.run(create_topics(settings, catalog_topics(settings)))
        dev_token = _published_dev_key(settings) if broker is not None or publish_dev_key else None
        supervisor = Supervisor(service_specs(settings, log_dir))
        supervisor.start_all()
        try:
            on_started(settings, dev_token)
            while not stop.wait(0.5):
                if broker is not None and broker.poll() is not None:
                    print(f"the local Kafka broker exited; see {log_dir / 'kafka.log'}", file=sys.stderr)
                    return 1
                supervisor.poll()
        finally:
            supervisor.stop_all()
    return 0


def _published_dev_key(settings: PlatformSettings) -> str:
    token, dev_key, _ = load_or_issue_dev_key(settings.data_dir)
    asyncio.run(publish_once(settings, dev_key, source="llmops-up"))
    return token


@contextmanager
def _broker_for(
    settings: PlatformSettings, kafka_port: int, log_dir: Path
) -> Iterator[tuple[PlatformSettings, subprocess.Popen[bytes] | None]]:
    if kafka_is_configured():
        yield settings, None
        return
    with local_broker(kafka_port, log_dir / "kafka.log") as broker:
        yield settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{kafka_port}"}), broker


def wait_until_ready(probe: Callable[[], bool], timeout_seconds: float, stop: threading.Event) -> bool:
    """Polls `probe` until it is true, the time is up, or the user asks to stop."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline and not stop.is_set():
        if probe():
            return True
        stop.wait(0.5)
    return False
