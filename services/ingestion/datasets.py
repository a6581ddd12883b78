"""Dataset versions: examples written as Parquet, named by their content hash, split by a hash of each example.

A version is a pure function of its rows: the same examples give the same bytes, the same hash and the
same train/eval split, whatever order they arrived in. That is what makes a fine-tune reproducible.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

EVAL_PERCENT = 10
"""The share of examples, by hash, that go to the eval split."""

SCHEMA = pa.schema(
    [
        pa.field("example_sha256", pa.string(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("prompt", pa.string()),
        pa.field("completion", pa.string()),
        pa.field("messages", pa.string()),
        pa.field("metadata", pa.string(), nullable=False),
    ]
)
"""The dataset's columns; `messages` and `metadata` are JSON text, so every reader can take them."""


@dataclass(frozen=True)
class Example:
    """One clean training example: prompt and completion, or chat messages."""

    record_id: str
    source: str
    prompt: str | None
    completion: str | None
    messages: tuple[tuple[str, str], ...] | None
    metadata: tuple[tuple[str, Any], ...] = ()

    @property
    def sha256(self) -> str:
        """The hash of the example's content (not of its ids): what names and splits it."""
        content = {"prompt": self.prompt, "completion": self.completion, "messages": self.messages}
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def split_of(example_sha256: str, eval_percent: int = EVAL_PERCENT) -> Literal["train", "eval"]:
    """The split an example belongs to, from its hash alone: stable across versions and machines."""
    return "eval" if int(example_sha256[:8], 16) % 100 < eval_percent else "train"


@dataclass(frozen=True)
class DatasetVersion:
    """A sealed version: its Parquet bytes, its content hash, and its row counts."""

    version: str
    parquet: bytes
    rows: int
    train_rows: int
    eval_rows: int


def build_version(examples: Iterable[Example], eval_percent: int = EVAL_PERCENT) -> DatasetVersion:
    """The version of a set of examples; duplicates by content are kept once."""
    by_hash = {example.sha256: example for example in examples}
    ordered = [by_hash[digest] for digest in sorted(by_hash)]
    splits = [split_of(example.sha256, eval_percent) for example in ordered]
    table = pa.Table.from_pylist(
        [_row(example, split) for example, split in zip(ordered, splits, strict=True)], schema=SCHEMA
    )
    return DatasetVersion(
        version=version_of(by_hash),
        parquet=parquet_bytes(table),
        rows=len(ordered),
        train_rows=splits.count("train"),
        eval_rows=splits.count("eval"),
    )


def version_of(example_hashes: Iterable[str]) -> str:
    """The version of a set of examples from their content hashes alone, without building it."""
    return hashlib.sha256("\n".join(sorted(set(example_hashes))).encode()).hexdigest()


def _row(example: Example, split: str) -> dict[str, Any]:
    messages = [{"role": role, "content": content} for role, content in example.messages or ()]
    return {
        "example_sha256": example.sha256,
        "record_id": example.record_id,
        "source": example.source,
        "split": split,
        "prompt": example.prompt,
        "completion": example.completion,
        "messages": json.dumps(messages, ensure_ascii=False) if example.messages is not None else None,
        "metadata": json.dumps(dict(example.metadata), sort_keys=True, ensure_ascii=False),
    }


def parquet_bytes(table: pa.Table) -> bytes:
    """A table as Parquet bytes that depend on its rows alone."""
    # No creation time or writer details in the file, so equal tables give equal bytes.
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", store_schema=False, write_statistics=False)
    return sink.getvalue()
