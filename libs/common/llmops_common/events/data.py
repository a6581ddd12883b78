"""Events of the data pipeline: raw records in, clean documents and sealed datasets out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import ArtifactRef, ClosedModel, Event, Metadata, TenantId


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

    def event_key(self) -> str:
        return self.doc_id


class DocumentErasedV1(Event):
    """A right-to-erasure request was carried out: the document must leave every index."""

    event_type = "llmops.data.document.erased.v1"

    doc_id: str = Field(min_length=1, max_length=256)
    tenant: TenantId
    reason: str = Field(min_length=1)
    requested_by: str

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
    profile: ArtifactRef | None = None
    source_event_ids: list[str] = Field(default_factory=list)

    def event_key(self) -> str:
        return self.name
