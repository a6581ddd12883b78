"""Reads the rows of a sealed dataset version: the one reader of the Parquet layout ingestion writes.

Ingestion writes versions; the trainer and the evaluator read them, without importing ingestion.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq


def read_dataset_rows(parquet: bytes) -> list[dict[str, Any]]:
    """The rows of a sealed version, with `messages` and `metadata` decoded from their JSON text."""
    rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(parquet)).to_pylist()
    for row in rows:
        row["messages"] = json.loads(row["messages"]) if row["messages"] is not None else None
        row["metadata"] = json.loads(row["metadata"])
    return rows
