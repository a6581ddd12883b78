"""The sealed dataset versions a service has seen on `llmops.data.datasets`, in SQLite in its state folder.

The topic is compacted by dataset, so it keeps only each dataset's latest version; a service that must
find an older version by its hash (a training request, an eval set pinned to a version) remembers every
version it has seen.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from .events import DatasetSealedV1


class DatasetVersionIndex:
    """Sealed versions by tenant, name and version; safe to use from the loop and a worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dataset_versions (tenant TEXT NOT NULL, name TEXT NOT NULL, "
            "version TEXT NOT NULL, event_json TEXT NOT NULL, seen_at REAL NOT NULL, "
            "PRIMARY KEY (tenant, name, version))"
        )

    def add(self, event: DatasetSealedV1) -> None:
        """Remembers a sealed version (a redelivery changes nothing)."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO dataset_versions (tenant, name, version, event_json, seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (event.tenant, event.name, event.version, event.model_dump_json(), time.time()),
            )

    def find(self, tenant: str, name: str, version: str) -> DatasetSealedV1 | None:
        """A version by its hash, a unique prefix of it, or `latest` (the last one seen)."""
        with self._lock:
            if version == "latest":
                rows = self._db.execute(
                    "SELECT event_json FROM dataset_versions WHERE tenant = ? AND name = ? "
                    "ORDER BY seen_at DESC LIMIT 1",
                    (tenant, name),
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT event_json FROM dataset_versions WHERE tenant = ? AND name = ? AND version LIKE ? LIMIT 2",
                    (tenant, name, version.replace("%", "").replace("_", "") + "%"),
                ).fetchall()
        return DatasetSealedV1.model_validate_json(rows[0][0]) if len(rows) == 1 else None

    def close(self) -> None:
        """Closes the database."""
        with self._lock:
            self._db.close()
