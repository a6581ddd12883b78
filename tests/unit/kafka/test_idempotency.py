"""The idempotency store: marks are found, outlive a killed process and a reopen, and expire."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmops_common.errors import StateDirInUseError
from llmops_common.kafka import idempotency
from llmops_common.kafka.idempotency import IdempotencyStore
from llmops_common.kafka.mark_journal import MarkJournal


def test_a_marked_event_is_found_for_its_group_only(tmp_path: Path) -> None:
    store = IdempotencyStore(tmp_path / "handled.sqlite")

    store.mark("monitor", "e-1")

    assert store.handled_among("monitor", ["e-1", "e-2"]) == {"e-1"}
    assert store.handled_among("trainer", ["e-1"]) == set()
    store.close()


def test_marks_outlive_a_reopen_whether_indexed_or_still_journalled(tmp_path: Path) -> None:
    path = tmp_path / "handled.sqlite"
    store = IdempotencyStore(path, index_every=3)
    for n in range(5):  # three go into the index, two stay in the journal
        store.mark("g", f"e-{n}")
    store.close()

    reopened = IdempotencyStore(path)

    assert reopened.handled_among("g", [f"e-{n}" for n in range(6)]) == {f"e-{n}" for n in range(5)}
    reopened.close()


def test_marks_outlive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "handled.sqlite"
    script = textwrap.dedent(f"""
        import os, signal
        from llmops_common.kafka.idempotency import IdempotencyStore
        store = IdempotencyStore({str(path)!r}, index_every=2)
        for n in range(5):
            store.mark("g", f"e-{{n}}")
        os.kill(os.getpid(), signal.SIGKILL)
    """)

    killed = subprocess.run([sys.executable, "-c", script], check=False)

    assert killed.returncode == -9
    store = IdempotencyStore(path)
    assert store.handled_among("g", [f"e-{n}" for n in range(5)]) == {f"e-{n}" for n in range(5)}
    store.close()


def test_a_full_journal_moves_its_marks_into_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "MarkJournal", lambda path: MarkJournal(path, size=256))
    store = IdempotencyStore(tmp_path / "handled.sqlite")

    for n in range(20):  # about 60 bytes a mark: the journal fills every few marks
        store.mark("g", f"event-{n:04d}")

    assert store.handled_among("g", [f"event-{n:04d}" for n in range(20)]) == {f"event-{n:04d}" for n in range(20)}
    store.close()


def test_a_torn_journal_line_is_skipped(tmp_path: Path) -> None:
    journal = MarkJournal(tmp_path / "marks.journal", size=1024)
    journal.append("g", "e-1", 1.0)
    journal.close()
    with (tmp_path / "marks.journal").open("r+b") as file:
        file.seek(len(b"g\te-1\t1.0\n"))
        file.write(b"g\te-2")  # a power loss cut this line short

    assert MarkJournal(tmp_path / "marks.journal", size=1024).marks() == [("g", "e-1", 1.0)]


def test_a_second_process_cannot_share_the_store(tmp_path: Path) -> None:
    path = tmp_path / "handled.sqlite"
    store = IdempotencyStore(path)

    with pytest.raises(StateDirInUseError, match="another process uses the idempotency store"):
        IdempotencyStore(path)
    store.close()


def test_marks_older_than_the_retention_expire_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "handled.sqlite"
    store = IdempotencyStore(path)
    monkeypatch.setattr(idempotency.time, "time", lambda: 1_000.0)
    store.mark("g", "old")
    monkeypatch.undo()
    store.mark("g", "new")
    store.close()

    reopened = IdempotencyStore(path, retention_seconds=3600)

    assert reopened.handled_among("g", ["old", "new"]) == {"new"}
    reopened.close()
