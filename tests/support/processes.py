"""Finds the processes a test started, by a marker in their environment, through /proc."""

from __future__ import annotations

from pathlib import Path


def processes_with_env(marker: str) -> dict[int, str]:
    """pid → command line of every live process whose environment contains `marker` (e.g. `KEY=value`)."""
    found: dict[int, str] = {}
    wanted = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue  # gone already, or not ours to read
    return found
