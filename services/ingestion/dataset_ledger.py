"""Per dataset: what came in (counters for the profile), what changed since the last seal (for the size
and age policy), and the versions sealed (so that sealing the same content twice has one effect).

It shares the ingestion store's SQLite connection. `count` and `note_change` join the caller's
transaction; the other writes commit on their own.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass

from llmops_common.events import DatasetSealedV1


@dataclass(frozen=True)
class SealedVersion:
    """A version sealed before, with its event, and whether that event is on Kafka yet."""

    event: DatasetSealedV1
    published: bool


@dataclass(frozen=True)
class Pending:
    """What changed in a dataset since its last seal: examples added, and since when."""

    tenant: str
    dataset: str
    added: int
    changed_at: float | None


class DatasetLedger:
    """Counters, pending changes and sealed versions of every dataset."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def count(self, tenant: str, dataset: str, tallies: Mapping[str, int]) -> None:
        """Adds to the dataset's counters (in the caller's transaction)."""
        self._db.execute("INSERT OR IGNORE INTO datasets (tenant, dataset) VALUES (?, ?)", (tenant, dataset))
        self._db.executemany(
            "INSERT INTO dataset_counters VALUES (?, ?, ?, ?)"
            " ON CONFLICT (tenant, dataset, counter) DO UPDATE SET value = value + excluded.value",
            [(tenant, dataset, name, value) for name, value in tallies.items() if value],
        )

    def tally(self, tenant: str, dataset: str, tallies: Mapping[str, int]) -> None:
        """Adds to the dataset's counters, and commits."""
        with self._db:
            self.count(tenant, dataset, tallies)

    def note_change(self, tenant: str, dataset: str, *, added: int) -> None:
        """Records a change to the dataset's examples (in the caller's transaction)."""
        self._db.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?) ON CONFLICT (tenant, dataset) DO UPDATE SET"
            " pending = pending + excluded.pending, changed_at = coalesce(changed_at, excluded.changed_at)",
            (tenant, dataset, added, time.time()),
        )

    def counters(self, tenant: str, dataset: str) -> dict[str, int]:
        """The dataset's counters."""
        rows = self._db.execute(
            "SELECT counter, value FROM dataset_counters WHERE tenant = ? AND dataset = ?", (tenant, dataset)
        )
        return {str(name): int(value) for name, value in rows}

    def exists(self, tenant: str, dataset: str) -> bool:
        """Whether any record was ever submitted for the dataset."""
        row = self._db.execute("SELECT 1 FROM datasets WHERE tenant = ? AND dataset = ?", (tenant, dataset))
        return row.fetchone() is not None

    def pending(self, tenant: str, dataset: str) -> Pending:
        """What changed since the dataset's last seal."""
        row = self._db.execute(
            "SELECT pending, changed_at FROM datasets WHERE tenant = ? AND dataset = ?", (tenant, dataset)
        ).fetchone()
        return Pending(tenant, dataset, 0, None) if row is None else Pending(tenant, dataset, int(row[0]), row[1])

    def changed(self) -> list[Pending]:
        """Every dataset changed since its last seal."""
        rows = self._db.execute(
            "SELECT tenant, dataset, pending, changed_at FROM datasets WHERE changed_at IS NOT NULL"
        )
        return [Pending(str(t), str(d), int(added), float(at)) for t, d, added, at in rows]

    def settle(self, sealed: Pending) -> None:
        """Takes the changes a seal covered off the pending ones; changes made meanwhile stay pending."""
        with self._db:
            self._db.execute(
                "UPDATE datasets SET pending = max(0, pending - ?),"
                " changed_at = CASE WHEN pending - ? > 0 THEN ? ELSE NULL END WHERE tenant = ? AND dataset = ?",
                (sealed.added, sealed.added, time.time(), sealed.tenant, sealed.dataset),
            )

    def sealed(self, tenant: str, dataset: str, version: str) -> SealedVersion | None:
        """The version, if it was sealed before."""
        row = self._db.execute(
            "SELECT event, published FROM sealed_versions WHERE tenant = ? AND dataset = ? AND version = ?",
            (tenant, dataset, version),
        ).fetchone()
        return None if row is None else SealedVersion(DatasetSealedV1.model_validate_json(row[0]), bool(row[1]))

    def record_seal(self, event: DatasetSealedV1) -> None:
        """Keeps a new version's event, before it is published."""
        with self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO sealed_versions (tenant, dataset, version, sealed_at, event)"
                " VALUES (?, ?, ?, ?, ?)",
                (event.tenant, event.name, event.version, time.time(), event.model_dump_json()),
            )

    def mark_published(self, event: DatasetSealedV1) -> None:
        """Records that the version's event is on Kafka."""
        with self._db:
            self._db.execute(
                "UPDATE sealed_versions SET published = 1 WHERE tenant = ? AND dataset = ? AND version = ?",
                (event.tenant, event.name, event.version),
            )

    def versions(self, tenant: str, dataset: str) -> list[tuple[float, DatasetSealedV1]]:
        """Every sealed version of the dataset with its seal time, oldest first."""
        rows = self._db.execute(
            "SELECT sealed_at, event FROM sealed_versions WHERE tenant = ? AND dataset = ? ORDER BY sealed_at, rowid",
            (tenant, dataset),
        )
        return [(float(at), DatasetSealedV1.model_validate_json(event)) for at, event in rows]
