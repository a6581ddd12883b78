"""Reads the rows of a sealed dataset version: the one reader of the Parquet layout ingestion writes.

Ingestion writes versions; the trainer and the evaluator read them, without importing ingestion.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pyarrow.parquet as pq


def read_dataset_rows(parquet: bytes) -> list[dict[str, Any]]:
    """The rows of a sealed version, with `messages` and `metadata` decoded from their JSON text."""
    rows: list[dict[str, Any]] = pq.read_table(io.BytesIO(parquet)).to_pylist()
    for row in rows:
        row["messages"] = json.loads(row["messages"]) if row["messages"] is not None else None
        row["metadata"] = json.loads(row["metadata"])
    return rows


PROMPT_FORMAT_KEY = "prompt_format"
"""A row's metadata key saying how its `prompt` is written."""
TEMPLATED_PROMPT = "templated"
"""The `prompt` is the exact text a model server gave its engine, chat template applied (a correction of a
served chat request carries it so): trained and scored as it is, never templated again."""


def has_templated_prompt(row: Mapping[str, Any]) -> bool:
    """Whether the row's prompt already went through the chat template."""
    metadata = row.get("metadata") or {}
    return bool(metadata.get(PROMPT_FORMAT_KEY) == TEMPLATED_PROMPT)
