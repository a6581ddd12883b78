"""The ingestion service's own state, in SQLite in its state folder: document versions, pending examples
and the rejects log; `DatasetLedger` (same file) keeps dataset counters and sealed versions.

- A document keeps its `doc_id` across versions; a new version is counted only when its content or its
  collection changes.
- Examples wait here, per tenant and dataset, until a dataset version is sealed from them.
- Every rejected record is logged with its reason, for the dataset profile and for people to look at.
- Metadata is kept as JSON, so that an erasure can find every record of a data subject.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.events.data import MetadataValue

from .dataset_ledger import DatasetLedger
from .datasets import Example
from .store_schema import create_schema


@dataclass(frozen=True)
class SubjectSelector:
    """Every record of a tenant whose metadata maps `key` to `value`."""

    key: str
    value: MetadataValue

    def json_path(self) -> str:
        """The SQLite JSON path of the key; the API allows only letters, digits and `_.:-` in keys."""
        return f'$."{self.key}"'


@dataclass(frozen=True)
class StoredExample:
    """An example as it waits for the next dataset version, with where it came from."""

    example: Example
    event_id: str


class IngestionStore:
    """Document versions, pending examples and rejects; one process owns it (its state folder)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level="DEFERRED")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        create_schema(self._db)
        self.ledger = DatasetLedger(self._db)

    def pending_document_version(
        self, doc_id: str, content_sha256: str, collection: str = DEFAULT_COLLECTION
    ) -> int | None:
        """The version a document gets: 1 when new, +1 when its content changed or it moved to another
        collection, None when neither. Not recorded: `record_document_version` does that once it is published."""
        row = self._db.execute(
            "SELECT version, content_sha256, collection FROM documents WHERE doc_id = ?", (doc_id,)
        ).fetchone()
        if row is not None and (row[1], row[2]) == (content_sha256, collection):
            return None
        return 1 if row is None else int(row[0]) + 1

    def record_document_version(
        self,
        doc_id: str,
        tenant: str,
        version: int,
        content_sha256: str,
        metadata: dict[str, Any] | None = None,
        collection: str = DEFAULT_COLLECTION,
    ) -> None:
        """Records the version a document was published at, so that the same content is not published again."""
        self._db.execute(
            "INSERT INTO documents (doc_id, tenant, version, content_sha256, metadata, collection)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (doc_id) DO UPDATE SET version = excluded.version, content_sha256 = excluded.content_sha256,"
            " erased = 0, metadata = excluded.metadata, collection = excluded.collection",
            (doc_id, tenant, version, content_sha256, _json(metadata or {}), collection),
        )
        self._db.commit()

    def collection_documents(self, tenant: str, collection: str) -> list[str]:
        """The tenant's documents, not yet erased, whose latest version is in `collection`."""
        rows = self._db.execute(
            "SELECT doc_id FROM documents WHERE tenant = ? AND collection = ? AND erased = 0 ORDER BY doc_id",
            (tenant, collection),
        )
        return [str(doc_id) for (doc_id,) in rows]

    def add_example(self, tenant: str, dataset: str, example: Example, event_id: str, doc_id: str = "") -> bool:
        """Keeps an example for the dataset's next version; False when the dataset has it already."""
        body = _json(
            {
                "prompt": example.prompt,
                "completion": example.completion,
                "messages": example.messages,
                "metadata": example.metadata,
            }
        )
        with self._db:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO examples"
                " (tenant, dataset, example_sha256, record_id, source, event_id, body, doc_id, metadata)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    dataset,
                    example.sha256,
                    example.record_id,
                    example.source,
                    event_id,
                    body,
                    doc_id,
                    _json(dict(example.metadata)),
                ),
            )
            added = cursor.rowcount == 1
            if added:
                self.ledger.note_change(tenant, dataset, added=1)
        return added

    def examples(self, tenant: str, dataset: str) -> Iterator[tuple[Example, str]]:
        """The dataset's examples with the id of the raw event each came from, in a stable order."""
        rows = self._db.execute(
            "SELECT record_id, source, event_id, body FROM examples WHERE tenant = ? AND dataset = ?"
            " ORDER BY example_sha256",
            (tenant, dataset),
        )
        for record_id, source, event_id, body in rows:
            yield _example(record_id, source, json.loads(body)), event_id

    def example_hashes(self, tenant: str, dataset: str) -> list[str]:
        """The content hashes of the dataset's examples, sorted: what names its next version."""
        rows = self._db.execute(
            "SELECT example_sha256 FROM examples WHERE tenant = ? AND dataset = ? ORDER BY example_sha256",
            (tenant, dataset),
        )
        return [str(digest) for (digest,) in rows]

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

    def live_documents(self, tenant: str, selector: str | SubjectSelector) -> list[str]:
        """The tenant's documents, not yet erased, that a doc id or a subject selects."""
        where, params = _selection(selector)
        rows = self._db.execute(
            f"SELECT doc_id FROM documents WHERE tenant = ? AND erased = 0 AND {where} ORDER BY doc_id",  # noqa: S608 - fixed SQL
            (tenant, *params),
        )
        return [str(doc_id) for (doc_id,) in rows]

    def erase_documents(self, doc_ids: list[str]) -> None:
        """Marks documents erased, forgetting their content hash and metadata; a later copy is a new version."""
        with self._db:
            self._db.executemany(
                "UPDATE documents SET erased = 1, content_sha256 = '', metadata = '{}' WHERE doc_id = ?",
                [(doc_id,) for doc_id in doc_ids],
            )

    def remove_examples(self, tenant: str, selector: str | SubjectSelector) -> tuple[dict[str, int], list[str]]:
        """Deletes the tenant's examples that a doc id or a subject selects: the count per dataset, and
        their doc ids (to drop from the dedup index)."""
        where, params = _selection(selector)
        with self._db:
            rows = self._db.execute(
                f"DELETE FROM examples WHERE tenant = ? AND {where} RETURNING dataset, doc_id",  # noqa: S608 - fixed SQL
                (tenant, *params),
            ).fetchall()
            removed: dict[str, int] = {}
            for dataset, _ in rows:
                removed[dataset] = removed.get(dataset, 0) + 1
            for dataset, count in removed.items():
                self.ledger.count(tenant, dataset, {"erased": count})
                self.ledger.note_change(tenant, dataset, added=0)
        return removed, sorted({str(doc_id) for _, doc_id in rows if doc_id})

    def close(self) -> None:
        """Closes the database."""
        self._db.close()


def _selection(selector: str | SubjectSelector) -> tuple[str, tuple[object, ...]]:
    if isinstance(selector, SubjectSelector):
        return "json_extract(metadata, ?) = ?", (selector.json_path(), selector.value)
    return "doc_id = ?", (selector,)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _example(record_id: str, source: str, fields: dict[str, Any]) -> Example:
    turns = fields["messages"]
    messages = None if turns is None else tuple((str(role), str(content)) for role, content in turns)
    metadata = tuple((str(key), value) for key, value in fields["metadata"])
    return Example(record_id, source, fields["prompt"], fields["completion"], messages, metadata)
