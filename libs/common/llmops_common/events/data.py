"""Events of the data pipeline: raw records in, clean documents and sealed datasets out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from .base import ArtifactRef, ClosedModel, CollectionName, Event, Metadata, TenantId
from .dataset_profile import DatasetProfile


class ChatMessage(ClosedModel):
    """One message of a chat: a role and its text."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class RecordSubmittedV1(Event):
    """A raw record that another team or a service put on `llmops.data.raw` to be ingested."""

    event_type = "llmops.data.record.submitted.v1"

    record_id: str = Field(min_length=1, max_length=256)
    tenant: TenantId
    source: str = Field(min_length=1, max_length=512)
    kind: Literal["document", "example"]
    dataset: str | None = Field(default=None, max_length=256)
    text: str | None = None
    prompt: str | None = None
    completion: str | None = None
    messages: list[ChatMessage] | None = None
    metadata: Metadata = Field(default_factory=dict)
    collection: CollectionName | None = Field(
        default=None,
        description="The knowledge base a document goes into; None: `default`. Examples ignore it.",
    )

    @model_validator(mode="after")
    def _has_content_for_kind(self) -> RecordSubmittedV1:
        if self.kind == "document" and self.text is None:
            raise ValueError("a document record needs `text`")
        if self.kind == "example" and self.messages is None and self.prompt is None:
            raise ValueError("an example record needs `prompt` or `messages`")
        return self

    def event_key(self) -> str:
        return self.record_id


class DocumentIngestedV1(Event):
    """A cleaned, deduplicated and redacted document, ready to be indexed for retrieval."""

    event_type = "llmops.data.document.ingested.v1"

    doc_id: str = Field(min_length=1, max_length=256)
    version: int = Field(ge=1)
    tenant: TenantId
    source: str
    text: str
    metadata: Metadata = Field(default_factory=dict)
    collection: CollectionName | None = Field(
        default=None,
        description="The tenant's knowledge base the document belongs to; None: `default`. A document is in "
        "one collection: a version in another one moves it.",
    )

    def event_key(self) -> str:
        return self.doc_id


class DocumentErasedV1(Event):
    """A right-to-erasure request was carried out, or the document's collection was deleted: the document
    must leave every index."""

    event_type = "llmops.data.document.erased.v1"

    doc_id: str = Field(min_length=1, max_length=256)
    tenant: TenantId
    reason: str = Field(min_length=1)
    requested_by: str
    erasure_id: str | None = Field(default=None, description="The erasure request that removed the document.")
    collection: CollectionName | None = Field(
        default=None, description="Set when the document left with its whole collection, which was deleted."
    )

    def event_key(self) -> str:
        return self.doc_id


class DatasetSealedV1(Event):
    """An immutable dataset version was written to the artifact store."""

    event_type = "llmops.data.dataset.sealed.v1"

    name: str = Field(min_length=1, max_length=256)
    version: str = Field(min_length=1, description="The content hash of the dataset rows.")
    tenant: TenantId
    artifact: ArtifactRef
    rows: int = Field(ge=0)
    train_rows: int = Field(ge=0)
    eval_rows: int = Field(ge=0)
    profile: ArtifactRef | None = Field(default=None, description="The EDA profile as JSON, beside the dataset.")
    source_event_ids: list[str] = Field(
        default_factory=list,
        description="Left empty by the ingestion service: the raw event ids are in `lineage`, which has no size limit.",
    )
    eda_profile: DatasetProfile | None = Field(default=None, description="The EDA profile itself.")
    lineage: ArtifactRef | None = Field(
        default=None,
        description="A Parquet file of every row's example hash, record id, source and raw event id (claim check).",
    )
    source_rows: dict[str, int] = Field(default_factory=dict, description="The rows from each source.")
    trigger: Literal["command", "size", "age"] | None = Field(
        default=None, description="What sealed the version: a command, or the size or age policy."
    )

    def event_key(self) -> str:
        # The tenant is part of the key: on a compacted topic, a dataset name alone would let one
        # tenant's latest version replace another's.
        return f"{self.tenant}/{self.name}"


MetadataValue = str | int | float | bool
"""A metadata value an erasure can select records by."""


class ErasureCompletedV1(Event):
    """A right-to-erasure request was carried out: the audit record of who asked, when, what and how much.

    It selects either one `doc_id`, or every record of a data subject whose metadata has
    `metadata_key` equal to `metadata_value`. Each erased document also gets a `DocumentErasedV1`.
    """

    event_type = "llmops.data.erasure.completed.v1"

    erasure_id: str = Field(min_length=1, max_length=64)
    tenant: TenantId
    requested_by: str = Field(description="The API key id that asked.")
    requested_at: datetime
    reason: str = Field(min_length=1)
    doc_id: str | None = Field(default=None, max_length=256)
    metadata_key: str | None = Field(default=None, max_length=128)
    metadata_value: MetadataValue | None = None
    documents_erased: int = Field(ge=0)
    examples_removed: int = Field(ge=0)
    datasets: list[str] = Field(
        default_factory=list, description="Datasets whose future versions lose examples; sealed ones stay as they are."
    )

    @model_validator(mode="after")
    def _selects_one_way(self) -> ErasureCompletedV1:
        by_subject = self.metadata_key is not None and self.metadata_value is not None
        if (self.doc_id is not None) == by_subject:
            raise ValueError("an erasure selects either a `doc_id` or a `metadata_key` with its `metadata_value`")
        return self

    def event_key(self) -> str:
        return self.erasure_id
