"""Stops a child process: politely first, then for sure."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace_seconds`; returns once it has exited."""
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
