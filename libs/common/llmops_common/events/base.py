"""The base of every event model, and the small value types events share."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

TenantId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")]
CollectionName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")]
"""A tenant's named knowledge base of documents for RAG; the tenant's rule, so it fits a URL path as it is."""
DEFAULT_COLLECTION = "default"
"""The collection a document goes into, and RAG searches, when none is named."""
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Metadata = dict[str, str | int | float | bool | None]


class ClosedModel(BaseModel):
    """A frozen model whose JSON Schema is a closed object (`additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ArtifactRef(ClosedModel):
    """A claim check: where an artifact lies in the artifact store and the sha256 of its bytes."""

    uri: str = Field(min_length=1)
    sha256: Sha256Hex
    size_bytes: int = Field(ge=0)


class Event(ClosedModel):
    """Base of every event body. The CloudEvents envelope (id, time, source) travels in headers."""

    event_type: ClassVar[str]
    """The CloudEvents `type`, ending in its version: `llmops.inference.completed.v1`."""

    def event_key(self) -> str:
        """The Kafka key: the id of the thing the event is about."""
        raise NotImplementedError
