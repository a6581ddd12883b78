"""The SQLite table of event ids that consumer groups have handled, for lookups by batch."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from .mark_journal import Mark

QUERY_CHUNK = 500
"""Event ids per lookup query, well under SQLite's limit on bound parameters."""


class HandledIndex:
    """Handled event ids per group, kept for `retention_seconds`, in SQLite.

    WAL mode with `synchronous=NORMAL` makes a commit survive a process crash without an fsync, and
    the exclusive locking mode spares the shared-memory locking of every transaction.
    """

    def __init__(self, path: Path, retention_seconds: int) -> None:
        self._db = sqlite3.connect(str(path), isolation_level="DEFERRED")
        self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS handled_events ("
            " group_id TEXT NOT NULL, event_id TEXT NOT NULL, handled_at REAL NOT NULL,"
            " PRIMARY KEY (group_id, event_id)) WITHOUT ROWID"
        )
        self._db.execute("DELETE FROM handled_events WHERE handled_at < ?", (time.time() - retention_seconds,))
        self._db.commit()

    def find(self, group_id: str, event_ids: Sequence[str]) -> set[str]:
        """Those of `event_ids` that the group handled."""
        found: set[str] = set()
        if not event_ids:
            return found
        for start in range(0, len(event_ids), QUERY_CHUNK):
            chunk = event_ids[start : start + QUERY_CHUNK]
            placeholders = ", ".join("?" * len(chunk))  # only placeholders enter the SQL text
            rows = self._db.execute(
                f"SELECT event_id FROM handled_events WHERE group_id = ? AND event_id IN ({placeholders})",  # noqa: S608
                (group_id, *chunk),
            )
            found.update(event_id for (event_id,) in rows)
        return found

    def add(self, marks: Sequence[Mark]) -> None:
        """Inserts and commits marks, in key order, which keeps the B-tree writes local."""
        self._db.executemany("INSERT OR IGNORE INTO handled_events VALUES (?, ?, ?)", sorted(marks))
        self._db.commit()

    def close(self) -> None:
        """Closes the database."""
        self._db.close()
