"""Remembers which event ids a consumer group has handled, so a redelivered event has no second effect."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600


class IdempotencyStore:
    """Handled event ids per consumer group, in SQLite so they outlive a crash.

    Each mark commits at once (WAL mode makes that cheap), before Kafka offsets are committed: a
    crash can replay an event whose mark was lost, never skip one that was not handled.
    """

    def __init__(self, path: Path | str, retention_seconds: int = DEFAULT_RETENTION_SECONDS) -> None:
        if isinstance(path, Path):
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level="DEFERRED", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS handled_events ("
            " group_id TEXT NOT NULL, event_id TEXT NOT NULL, handled_at REAL NOT NULL,"
            " PRIMARY KEY (group_id, event_id)) WITHOUT ROWID"
        )
        self._db.execute("DELETE FROM handled_events WHERE handled_at < ?", (time.time() - retention_seconds,))
        self._db.commit()

    def seen(self, group_id: str, event_id: str) -> bool:
        """Whether this group already handled the event."""
        row = self._db.execute(
            "SELECT 1 FROM handled_events WHERE group_id = ? AND event_id = ?", (group_id, event_id)
        ).fetchone()
        return row is not None

    def mark(self, group_id: str, event_id: str) -> None:
        """Records the event as handled."""
        self._db.execute(
            "INSERT OR IGNORE INTO handled_events VALUES (?, ?, ?)", (group_id, event_id, time.time())
        )
        self._db.commit()

    def close(self) -> None:
        """Commits and closes the database."""
        self._db.commit()
        self._db.close()
