"""The ingestion pipeline as a pure library: records in, clean records, rejects and duplicates out.

No Kafka and no HTTP here: the service's handlers, routes and CLI feed records to an
`IngestionPipeline` and write out what it yields. Each step lives in a module of its own:
`normalise`, `validation`, `pii`, `quality`, `dedup` (with `shingles`, `signatures` and `banding`),
and `counters` counts them all.
"""

from __future__ import annotations

from llmops_common.pii.types import PiiType, Redaction, Redactor

from .config import PipelineSettings
from .counters import PipelineCounters
from .outcomes import CleanRecord, Duplicate, DuplicateKind, Outcome, Rejected, RejectReason
from .pipeline import IngestionPipeline

__all__ = [
    "CleanRecord",
    "Duplicate",
    "DuplicateKind",
    "IngestionPipeline",
    "Outcome",
    "PiiType",
    "PipelineCounters",
    "PipelineSettings",
    "Redaction",
    "Redactor",
    "RejectReason",
    "Rejected",
]
