"""Telemetry the broker did not take, kept on disk until it can be sent: it feeds budgets and billing.

Each spilled batch is one file of JSON lines, one event with its CloudEvents headers per line, so a
batch sent again carries the same event ids and times: the monitor keeps one row per event id (its
tables fold on it), and the feedback collector keys on the request id. Files are named by a counter,
so the oldest goes first, and by their event count, so the backlog is known without reading them. A
file is written whole under a temporary name, then renamed: a crash leaves no half batch behind.
The folder is bounded in bytes; a batch past the bound, or one the disk refuses, is the caller's to
count as dropped.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmops_common.errors import InvalidEventError
from llmops_common.events import InferenceCompletedV1
from llmops_common.kafka.envelope import Envelope, parse_envelope

log = logging.getLogger(__name__)

Pending = tuple[Envelope, InferenceCompletedV1]
"""An event and the envelope it is published in, whichever attempt sends it."""

SUFFIX = ".jsonl"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class SpilledBatch:
    """The oldest spilled batch: its file, its events, and how many of its lines no longer parse."""

    path: Path
    pending: list[Pending]
    unreadable: int


class TelemetrySpill:
    """A folder of spilled telemetry batches, at most `max_bytes` in all; one process owns it."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for partial in folder.glob(f"*{PARTIAL_SUFFIX}"):
            partial.unlink()  # a spill a crash cut short: its events died with that process's memory
        self._folder, self._max_bytes = folder, max_bytes
        self._files = sorted(folder.glob(f"*{SUFFIX}"))
        self._bytes = sum(path.stat().st_size for path in self._files)
        self._events = sum(_count_of(path) for path in self._files)
        self._next = _sequence_of(self._files[-1]) + 1 if self._files else 0

    @property
    def events(self) -> int:
        """Events waiting on disk."""
        return self._events

    def write(self, batch: Sequence[Pending]) -> bool:
        """Keeps a batch on disk; False, keeping nothing, when it would pass the bound or the disk fails."""
        data = b"".join(_line(envelope, event) for envelope, event in batch)
        if self._bytes + len(data) > self._max_bytes:
            return False
        path = self._folder / f"{self._next:012d}-{len(batch)}{SUFFIX}"
        partial = path.with_suffix(PARTIAL_SUFFIX)
        try:
            partial.write_bytes(data)
            os.replace(partial, path)
        except OSError as error:
            log.warning("spilling %d telemetry events failed: %s", len(batch), error)
            partial.unlink(missing_ok=True)
            return False
        self._next += 1
        self._files.append(path)
        self._bytes += len(data)
        self._events += len(batch)
        return True

    def oldest(self) -> SpilledBatch | None:
        """The batch spilled first, or None when the folder is empty."""
        if not self._files:
            return None
        path = self._files[0]
        try:
            lines = path.read_bytes().splitlines()
        except OSError as error:  # gone or unreadable: its events are lost, and counted by the caller
            log.warning("cannot read spilled telemetry %s: %s", path, error)
            return SpilledBatch(path, [], _count_of(path))
        pending: list[Pending] = []
        unreadable = 0
        for line in lines:
            try:
                item = json.loads(line)
                pending.append((parse_envelope(item["headers"]), InferenceCompletedV1.model_validate(item["event"])))
            except (ValueError, KeyError, TypeError, InvalidEventError):  # a ValidationError is a ValueError
                unreadable += 1
        return SpilledBatch(path, pending, unreadable)

    def remove(self, batch: SpilledBatch) -> None:
        """Deletes a batch once it is sent (or unreadable)."""
        self._files.remove(batch.path)
        self._events -= _count_of(batch.path)
        try:
            self._bytes -= batch.path.stat().st_size
            batch.path.unlink()
        except OSError as error:  # a file left behind is sent again by the next process: the same event ids
            log.warning("cannot delete spilled telemetry %s: %s", batch.path, error)


def _line(envelope: Envelope, event: InferenceCompletedV1) -> bytes:
    return b'{"headers":%s,"event":%s}\n' % (json.dumps(envelope.headers()).encode(), event.model_dump_json().encode())


def _sequence_of(path: Path) -> int:
    return int(path.name.split("-", 1)[0])


def _count_of(path: Path) -> int:
    return int(path.name.removesuffix(SUFFIX).split("-", 1)[1])
