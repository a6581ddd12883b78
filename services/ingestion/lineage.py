"""The lineage of a dataset version: for every row, its example hash, record id, source and the id of
the raw event it came in with.

The list grows with the dataset, so it goes into the artifact store as Parquet beside the dataset (a
claim check), and the dataset event carries its reference and the rows per source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pyarrow as pa

from .datasets import Example, parquet_bytes

SCHEMA = pa.schema(
    [
        pa.field("example_sha256", pa.string(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
    ]
)


def lineage_parquet(rows: Sequence[tuple[Example, str]]) -> bytes:
    """The lineage of `rows` (each an example and its raw event id) as Parquet, in example-hash order."""
    ordered = sorted(rows, key=lambda row: row[0].sha256)
    table = pa.Table.from_pylist(
        [
            {"example_sha256": example.sha256, "record_id": example.record_id, "source": example.source, "event_id": e}
            for example, e in ordered
        ],
        schema=SCHEMA,
    )
    return parquet_bytes(table)


def source_rows(examples: Sequence[Example]) -> dict[str, int]:
    """The rows from each source, by source name."""
    return dict(sorted(Counter(example.source for example in examples).items()))
