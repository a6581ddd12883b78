"""The ingestion service's own state, in SQLite in its state folder: document versions, pending examples
and the rejects log.

- A document keeps its `doc_id` across versions; a new version is counted only when its content changes.
- Examples wait here, per tenant and dataset, until a dataset version is sealed from them.
- Every rejected record is logged with its reason, for the dataset profile and for people to look at.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .datasets import Example


class IngestionStore:
    """Document versions, pending examples and rejects; one process owns it (its state folder)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level="DEFERRED")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS documents (
                doc_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, version INTEGER NOT NULL,
                content_sha256 TEXT NOT NULL, erased INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS examples (
                tenant TEXT NOT NULL, dataset TEXT NOT NULL, example_sha256 TEXT NOT NULL,
                record_id TEXT NOT NULL, source TEXT NOT NULL, event_id TEXT NOT NULL, body TEXT NOT NULL,
                PRIMARY KEY (tenant, dataset, example_sha256));
            CREATE TABLE IF NOT EXISTS rejects (
                at REAL NOT NULL, tenant TEXT NOT NULL, record_id TEXT NOT NULL, source TEXT NOT NULL,
                reason TEXT NOT NULL, detail TEXT NOT NULL);
            """
        )
        self._db.commit()

    def next_document_version(self, doc_id: str, tenant: str, content_sha256: str) -> int | None:
        """The version a document's content gets: 1 when new, +1 when changed, None when unchanged."""
        row = self._db.execute("SELECT version, content_sha256 FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is not None and row[1] == content_sha256:
            return None
        version = 1 if row is None else int(row[0]) + 1
        self._db.execute(
            "INSERT INTO documents (doc_id, tenant, version, content_sha256) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (doc_id) DO UPDATE SET version = excluded.version,"
            " content_sha256 = excluded.content_sha256, erased = 0",
            (doc_id, tenant, version, content_sha256),
        )
        self._db.commit()
        return version

    def add_example(self, tenant: str, dataset: str, example: Example, event_id: str) -> bool:
        """Keeps an example for the dataset's next version; False when the dataset has it already."""
        body = json.dumps(
            {
                "prompt": example.prompt,
                "completion": example.completion,
                "messages": example.messages,
                "metadata": example.metadata,
            },
            ensure_ascii=False,
        )
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO examples VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tenant, dataset, example.sha256, example.record_id, example.source, event_id, body),
        )
        self._db.commit()
        return cursor.rowcount == 1

    def examples(self, tenant: str, dataset: str) -> Iterator[tuple[Example, str]]:
        """The dataset's examples with the id of the raw event each came from, in a stable order."""
        rows = self._db.execute(
            "SELECT record_id, source, event_id, body FROM examples WHERE tenant = ? AND dataset = ?"
            " ORDER BY example_sha256",
            (tenant, dataset),
        )
        for record_id, source, event_id, body in rows:
            yield _example(record_id, source, json.loads(body)), event_id

    def log_reject(self, tenant: str, record_id: str, source: str, reason: str, detail: str) -> None:
        """Adds a line to the rejects log."""
        self._db.execute(
            "INSERT INTO rejects VALUES (?, ?, ?, ?, ?, ?)", (time.time(), tenant, record_id, source, reason, detail)
        )
        self._db.commit()

    def rejects(self, tenant: str) -> list[dict[str, str]]:
        """The tenant's rejects log, oldest first."""
        rows = self._db.execute(
            "SELECT record_id, source, reason, detail FROM rejects WHERE tenant = ? ORDER BY at", (tenant,)
        )
        return [{"record_id": r, "source": s, "reason": why, "detail": d} for r, s, why, d in rows]

    def close(self) -> None:
        """Closes the database."""
        self._db.close()


def _example(record_id: str, source: str, fields: dict[str, Any]) -> Example:
    turns = fields["messages"]
    messages = None if turns is None else tuple((str(role), str(content)) for role, content in turns)
    metadata = tuple((str(key), value) for key, value in fields["metadata"])
    return Example(record_id, source, fields["prompt"], fields["completion"], messages, metadata)
