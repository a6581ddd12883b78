"""The ingestion service's HTTP request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_common.events import DatasetSealedV1
from llmops_common.events.base import CollectionName, Metadata
from llmops_common.events.data import ChatMessage, MetadataValue


class IngestRecord(BaseModel):
    """A raw record as a product sends it; the tenant comes from the API key."""

    model_config = ConfigDict(extra="forbid")

    record_id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=512)
    kind: Literal["document", "example"]
    dataset: str | None = Field(default=None, max_length=256)
    text: str | None = None
    prompt: str | None = None
    completion: str | None = None
    messages: list[ChatMessage] | None = None
    metadata: Metadata = Field(default_factory=dict)
    collection: CollectionName | None = None
    """The knowledge base a document goes into (`default` when None); RAG requests name it. Examples go
    into `dataset` instead."""


class IngestBatch(BaseModel):
    """Records to ingest."""

    model_config = ConfigDict(extra="forbid")

    records: list[IngestRecord] = Field(min_length=1)


class IngestAccepted(BaseModel):
    """The records were put on `llmops.data.raw`; the pipeline takes it from there."""

    accepted: int
    record_ids: list[str]


class RejectOut(BaseModel):
    """A line of the rejects log."""

    record_id: str
    source: str
    reason: str
    detail: str


class DatasetOut(BaseModel):
    """A dataset as it is now, before its next seal."""

    name: str
    examples: int
    examples_since_seal: int
    changed_since_seal: bool
    versions: int
    counters: dict[str, int]
    """Records seen, accepted, rejected by reason, duplicates, PII values by type, examples erased."""


class SealedOut(BaseModel):
    """A sealed dataset version: the dataset event's body, and whether this seal made it."""

    created: bool
    """False when the dataset's content was sealed before: the same version, no new event."""
    sealed: DatasetSealedV1


class VersionOut(BaseModel):
    """A line of a dataset's version list."""

    version: str
    sealed_at: datetime
    rows: int
    train_rows: int
    eval_rows: int
    trigger: str | None


class ErasureIn(BaseModel):
    """An erasure request: one `doc_id`, or every record whose metadata has `key` equal to `value`."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str | None = Field(default=None, min_length=1, max_length=256)
    key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    value: MetadataValue | None = None
    reason: str = Field(default="right to erasure", min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_selector(self) -> ErasureIn:
        if self.doc_id is None and (self.key is None or self.value is None):
            raise ValueError("give either `doc_id`, or `key` and `value`")
        if self.doc_id is not None and (self.key is not None or self.value is not None):
            raise ValueError("give either `doc_id`, or `key` and `value`, not both")
        return self


class CollectionOut(BaseModel):
    """A collection (knowledge base) of the tenant, as the retriever has indexed it."""

    name: str
    documents: int
    chunks: int


class CollectionDeleted(BaseModel):
    """A collection was deleted: its documents are erased from the index (within seconds, by event)."""

    name: str
    documents: int
    """The documents that left the collection."""
