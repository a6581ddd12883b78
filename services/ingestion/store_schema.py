"""The tables of the ingestion store, and the columns added since a file was first made."""

from __future__ import annotations

import sqlite3

TABLES = """
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
CREATE TABLE IF NOT EXISTS datasets (
    tenant TEXT NOT NULL, dataset TEXT NOT NULL, pending INTEGER NOT NULL DEFAULT 0, changed_at REAL,
    PRIMARY KEY (tenant, dataset));
CREATE TABLE IF NOT EXISTS dataset_counters (
    tenant TEXT NOT NULL, dataset TEXT NOT NULL, counter TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (tenant, dataset, counter));
CREATE TABLE IF NOT EXISTS sealed_versions (
    tenant TEXT NOT NULL, dataset TEXT NOT NULL, version TEXT NOT NULL, sealed_at REAL NOT NULL,
    event TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, dataset, version));
"""

ADDED_COLUMNS = {
    "documents": {"metadata": "TEXT NOT NULL DEFAULT '{}'", "collection": "TEXT NOT NULL DEFAULT 'default'"},
    "examples": {"doc_id": "TEXT NOT NULL DEFAULT ''", "metadata": "TEXT NOT NULL DEFAULT '{}'"},
}
"""Columns that files made by the first version of the store lack; they are added in place."""


def create_schema(db: sqlite3.Connection) -> None:
    """Creates the missing tables and columns."""
    db.executescript(TABLES)
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, definition in columns.items():
            if name not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
    db.execute("CREATE INDEX IF NOT EXISTS examples_by_doc ON examples (tenant, doc_id)")
    db.execute("CREATE INDEX IF NOT EXISTS documents_by_collection ON documents (tenant, collection)")
    db.commit()
