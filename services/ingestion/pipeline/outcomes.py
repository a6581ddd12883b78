"""What the pipeline yields for each record: a clean record, a rejection or a duplicate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from llmops_common.events.base import Metadata
from llmops_common.events.data import ChatMessage
from llmops_common.pii.types import PiiType


class RejectReason(StrEnum):
    """Why a record was rejected: the reason code of the rejects log and of the counters."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    MALFORMED = "malformed"
    TOO_FEW_WORDS = "too_few_words"
    SYMBOL_RATIO = "symbol_ratio"
    REPETITION = "repetition"


class DuplicateKind(StrEnum):
    """How a dropped duplicate matched a record kept earlier."""

    EXACT = "exact"
    NEAR = "near"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a step refused a record: a reason code and a human-readable detail."""

    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class CleanRecord:
    """An accepted record: normalised, redacted, and unique within its tenant, kind and dataset.

    A document carries `text`; an example carries `prompt` and `completion`, or `messages`.
    """

    record_id: str
    tenant: str
    source: str
    kind: Literal["document", "example"]
    dataset: str | None
    metadata: Metadata
    doc_id: str
    """Stable across versions of the same record: a hash of tenant, source and record id."""
    content_sha256: str
    """sha256 of the text of a document, or of the canonical JSON of an example's turns."""
    text: str | None = None
    prompt: str | None = None
    completion: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    pii_hits: Mapping[PiiType, int] = field(default_factory=dict, compare=False)
    """PII values redacted in the record, by type."""
    collection: str | None = None
    """The knowledge base of a document (`default` when its record names none); None for an example."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A line of the rejects log: the record that was rejected, and why."""

    record_id: str
    tenant: str
    source: str
    reason: RejectReason
    detail: str
    pii_hits: Mapping[PiiType, int] = field(default_factory=dict, compare=False)
    """PII values redacted in the record, by type; empty when it was rejected before redaction."""

    def as_row(self) -> dict[str, str]:
        """The entry as a flat row, for JSONL or Parquet."""
        return {
            "record_id": self.record_id,
            "tenant": self.tenant,
            "source": self.source,
            "reason": self.reason.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A record dropped because a record kept earlier in the same scope has (nearly) the same content."""

    record_id: str
    tenant: str
    source: str
    kind: DuplicateKind
    duplicate_of: str
    """The `doc_id` of the record that was kept."""
    similarity: float
    """1.0 for an exact duplicate; the MinHash estimate of the Jaccard similarity for a near one."""
    pii_hits: Mapping[PiiType, int] = field(default_factory=dict, compare=False)
    """PII values redacted in the record, by type."""


Outcome = CleanRecord | Rejected | Duplicate
"""One record's fate; `IngestionPipeline.process` returns exactly one per record."""
