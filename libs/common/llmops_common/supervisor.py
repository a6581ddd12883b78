"""A small process supervisor for `llmops up`: starts each service, restarts a crashed one with backoff,
and stops them all without leaving a process behind."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

STABLE_AFTER_SECONDS = 30.0
"""A process that has run this long is healthy again, and its next crash starts the backoff anew."""


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one supervised process."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    log_file: Path


@dataclass
class _Supervised:
    spec: ProcessSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    delay: float = 0.0
    exit_codes: list[int] = field(default_factory=list)


class Supervisor:
    """Keeps a set of processes running until `stop_all`."""

    def __init__(self, specs: Sequence[ProcessSpec], *, first_delay: float = 1.0, max_delay: float = 30.0) -> None:
        self._processes = {spec.name: _Supervised(spec) for spec in specs}
        self._first_delay = first_delay
        self._max_delay = max_delay

    def start_all(self) -> None:
        """Starts every process."""
        for supervised in self._processes.values():
            self._start(supervised)

    def poll(self) -> None:
        """Notices crashed processes and restarts the ones whose backoff has passed."""
        now = time.monotonic()
        for supervised in self._processes.values():
            process = supervised.process
            if process is not None and (code := process.poll()) is not None:
                self._schedule_restart(supervised, code, now)
            elif process is None and supervised.restart_at is not None and now >= supervised.restart_at:
                supervised.restarts += 1
                self._start(supervised)

    def restarts(self) -> dict[str, int]:
        """How often each process has been restarted."""
        return {name: supervised.restarts for name, supervised in self._processes.items()}

    def pids(self) -> dict[str, int | None]:
        """The pid of each process that runs now."""
        return {name: s.process.pid if s.process else None for name, s in self._processes.items()}

    def stop_all(self, grace_seconds: float = 15.0) -> None:
        """Asks every process to stop (SIGTERM), waits up to `grace_seconds`, then kills the rest."""
        running = [s.process for s in self._processes.values() if s.process is not None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %s ignored SIGTERM; killing it", process.pid)
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for supervised in self._processes.values():
            supervised.process = None
            supervised.restart_at = None

    def _start(self, supervised: _Supervised) -> None:
        spec = supervised.spec
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_file.open("ab") as output:
            # Its own session, so a terminal's Ctrl-C reaches only us and we stop things in order.
            supervised.process = subprocess.Popen(  # noqa: S603 - our own service commands
                list(spec.command),
                env=dict(spec.env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        supervised.started_at = time.monotonic()
        supervised.restart_at = None

    def _schedule_restart(self, supervised: _Supervised, code: int, now: float) -> None:
        supervised.exit_codes.append(code)
        supervised.process = None
        if now - supervised.started_at >= STABLE_AFTER_SECONDS:
            supervised.delay = 0.0
        supervised.delay = min(self._max_delay, supervised.delay * 2 or self._first_delay)
        supervised.restart_at = now + supervised.delay
        log.warning(
            "%s exited with %s; restarting in %.1fs (see %s)",
            supervised.spec.name,
            code,
            supervised.delay,
            supervised.spec.log_file,
        )


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    """Signals the process's whole group, so helpers it spawned go too."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
