"""Events of the prompt registry, the source of truth on the compacted topic `llmops.prompts`."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from .base import ClosedModel, Event, TenantId
from .data import ChatMessage


class PromptVariable(ClosedModel):
    """A declared input variable of a template."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    type: Literal["string", "integer", "number", "boolean", "array", "object"] = "string"
    required: bool = True


class ModelParameters(ClosedModel):
    """Default generation parameters stored with a prompt version."""

    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)


class PromptVersionCreatedV1(Event):
    """A new immutable version of a prompt was saved."""

    event_type = "llmops.prompt.version.created.v1"

    tenant: TenantId
    name: str = Field(min_length=1, max_length=256)
    version: int = Field(ge=1)
    kind: Literal["chat", "text"]
    template: str | None = None
    messages: list[ChatMessage] | None = None
    variables: list[PromptVariable] = Field(default_factory=list)
    parameters: ModelParameters = Field(default_factory=ModelParameters)
    commit_message: str = ""
    author: str
    created_at: AwareDatetime
    change_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64)
    """This write attempt; of two attempts at the same version, the first in the log is the version."""

    def event_key(self) -> str:
        # One key per write attempt: a key per version would let compaction keep the later record
        # of two concurrent writers, which is the loser.
        return f"{self.tenant}/{self.name}/v/{self.version}/{self.change_id}"


class PromptLabelMovedV1(Event):
    """A label (production, staging, ...) now points at another version of a prompt."""

    event_type = "llmops.prompt.label.moved.v1"

    tenant: TenantId
    name: str = Field(min_length=1, max_length=256)
    label: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)
    version: int = Field(ge=1)
    previous_version: int | None = None
    moved_by: str
    moved_at: AwareDatetime
    change_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=64)
    """This move; a move is applied only when `previous_version` is where the label still points."""

    def event_key(self) -> str:
        # One key per move, for the same reason as versions; the moves of a label are its history.
        return f"{self.tenant}/{self.name}/l/{self.label}/{self.change_id}"
