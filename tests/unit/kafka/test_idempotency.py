"""The idempotency store: marks are found, outlive a killed process and a reopen, and expire with the window."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmops_common.errors import StateDirInUseError
from llmops_common.kafka.handled_ids import MAX_ID_CHARS
from llmops_common.kafka.idempotency import IdempotencyStore
from llmops_common.kafka.mark_journal import MarkSegment

DAY = 24 * 3600.0


class Clock:
    """A settable clock, so that tests move through the dedup window without waiting."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_marked_event_is_found_for_its_group_only(tmp_path: Path) -> None:
    store = IdempotencyStore(tmp_path / "handled")

    store.mark("monitor", "e-1")

    assert store.handled_among("monitor", ["e-1", "e-2"]) == {"e-1"}
    assert store.handled_among("trainer", ["e-1"]) == set()
    store.close()


def test_marks_outlive_a_reopen_across_full_segments(tmp_path: Path) -> None:
    folder = tmp_path / "handled"
    store = IdempotencyStore(folder, segment_bytes=64)
    for n in range(20):  # about 7 bytes a record: a segment fills every 9 marks
        store.mark("g", f"e-{n:03d}")
    store.close()

    reopened = IdempotencyStore(folder, segment_bytes=64)

    assert reopened.handled_among("g", [f"e-{n:03d}" for n in range(21)]) == {f"e-{n:03d}" for n in range(20)}
    assert len(list(folder.glob("*/*.ids"))) == 3
    reopened.close()


def test_marks_outlive_a_killed_process(tmp_path: Path) -> None:
    folder = tmp_path / "handled"
    script = textwrap.dedent(f"""
        import os, signal
        from llmops_common.kafka.idempotency import IdempotencyStore
        store = IdempotencyStore({str(folder)!r})
        for n in range(5):
            store.mark("g", f"e-{{n}}")
        os.kill(os.getpid(), signal.SIGKILL)
    """)

    killed = subprocess.run([sys.executable, "-c", script], check=False)

    assert killed.returncode == -9
    store = IdempotencyStore(folder)
    assert store.handled_among("g", [f"e-{n}" for n in range(6)]) == {f"e-{n}" for n in range(5)}
    store.close()


def test_a_record_whose_length_was_never_written_ends_the_segment(tmp_path: Path) -> None:
    path = tmp_path / "segment.ids"
    segment = MarkSegment(path, size=1024)
    segment.append("e-1")
    segment.close()
    with path.open("r+b") as file:
        file.seek(2 + len("e-1") + 2)
        file.write(b"e-2")  # the process was killed before the length went in front

    reopened = MarkSegment(path, size=1024)
    assert reopened.ids() == ["e-1"]
    reopened.append("e-3")  # the next mark overwrites the torn one
    assert reopened.ids() == ["e-1", "e-3"]
    reopened.close()


def test_a_second_process_cannot_share_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "handled"
    store = IdempotencyStore(folder)

    with pytest.raises(StateDirInUseError, match="another process uses the idempotency store"):
        IdempotencyStore(folder)
    store.close()


def test_ids_are_forgotten_once_their_segment_is_older_than_the_window(tmp_path: Path) -> None:
    clock = Clock()
    store = IdempotencyStore(tmp_path / "handled", retention_seconds=7 * DAY, clock=clock)
    store.mark("g", "old")
    clock.now += 1.5 * DAY
    store.handled_among("g", [])  # a batch after a day opens a new segment
    store.mark("g", "recent")

    clock.now += 6 * DAY  # "old" is 7.5 days old, and its segment was closed 6 days ago
    assert store.handled_among("g", ["old", "recent"]) == {"old", "recent"}

    clock.now += 1.5 * DAY  # the segment after the one holding "old" opened more than 7 days ago
    assert store.handled_among("g", ["old", "recent"]) == {"recent"}
    assert store.handled_among("g", ["old", "recent"]) == {"recent"}
    store.close()


def test_a_restart_keeps_the_window_and_drops_what_expired_while_stopped(tmp_path: Path) -> None:
    clock = Clock()
    folder = tmp_path / "handled"
    store = IdempotencyStore(folder, retention_seconds=7 * DAY, clock=clock)
    store.mark("g", "old")
    clock.now += 2 * DAY
    store.handled_among("g", [])
    store.mark("g", "recent")
    store.close()

    clock.now += 3 * DAY
    reopened = IdempotencyStore(folder, retention_seconds=7 * DAY, clock=clock)
    assert reopened.handled_among("g", ["old", "recent", "new"]) == {"old", "recent"}
    reopened.close()

    clock.now += 4.5 * DAY  # the segment after the one holding "old" opened 7.5 days ago
    reopened = IdempotencyStore(folder, retention_seconds=7 * DAY, clock=clock)
    assert reopened.handled_among("g", ["old", "recent"]) == {"recent"}
    assert len(list(folder.glob("*/*.ids"))) == 2  # the one holding "recent", and the newest
    reopened.close()


def test_an_id_too_long_for_a_record_is_kept_as_its_digest(tmp_path: Path) -> None:
    folder = tmp_path / "handled"
    long_id = "x" * (MAX_ID_CHARS + 1)
    store = IdempotencyStore(folder)
    store.mark("g", long_id)
    store.close()

    reopened = IdempotencyStore(folder)

    assert reopened.handled_among("g", [long_id, long_id[:-1]]) == {long_id}
    reopened.close()
