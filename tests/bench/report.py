"""What every benchmark shares: percentiles, a plain-text table, and a broker of its own."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence

from llmops_common.local_kafka import free_port, running_tansu

Row = tuple[str, ...]


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100), by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def verdict(passed: bool) -> str:
    """PASS or MISS, for a goal column."""
    return "PASS" if passed else "MISS"


def table(header: str, rows: Sequence[Row]) -> str:
    """`rows` (the first one names the columns) as aligned text under `header`."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join([header, *lines])


@contextlib.contextmanager
def bench_broker() -> Iterator[str]:
    """`LLMOPS_BENCH_KAFKA_BOOTSTRAP`, or a Tansu broker of the benchmark's own on a free port."""
    if bootstrap := os.environ.get("LLMOPS_BENCH_KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    port = free_port()
    with running_tansu(port):
        yield f"127.0.0.1:{port}"


@contextlib.contextmanager
def quiet_access_log() -> Iterator[None]:
    """Mutes FastStream's per-batch and per-request log lines, so that progress and table stay readable."""
    access_log = logging.getLogger("faststream.access.kafka")
    was_disabled, access_log.disabled = access_log.disabled, True
    try:
        yield
    finally:
        access_log.disabled = was_disabled
