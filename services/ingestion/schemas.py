"""The ingestion service's HTTP request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_common.events.base import Metadata
from llmops_common.events.data import ChatMessage


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
