"""The registry's HTTP request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from llmops_common.events import PromptVersionCreatedV1
from llmops_common.events.data import ChatMessage
from llmops_common.events.prompts import ModelParameters, PromptVariable

PromptName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=128)]
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]


class Request(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class VersionRequest(Request):
    """A new version of a prompt."""

    kind: Literal["chat", "text"]
    template: str | None = None
    messages: list[ChatMessage] | None = None
    variables: list[PromptVariable] = Field(default_factory=list)
    parameters: ModelParameters = Field(default_factory=ModelParameters)
    commit_message: str = Field(default="", max_length=2000)
    expected_version: int | None = Field(default=None, ge=0)
    """The latest version the writer saw (0: the prompt is new); a stale one gets 409."""


class LabelRequest(Request):
    """Where a label should point."""

    version: int = Field(ge=1)
    expected_version: int | None = Field(default=None, ge=0)
    """Where the writer saw the label point (0: nowhere yet); a stale one gets 409."""


class RenderRequest(Request):
    """Values for a prompt's variables, and which version to render (the latest by default)."""

    variables: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None
    version: int | None = Field(default=None, ge=1)


class PromptVersionOut(BaseModel):
    """One version of a prompt, with the labels that point at it."""

    name: str
    version: int
    kind: Literal["chat", "text"]
    template: str | None
    messages: list[ChatMessage] | None
    variables: list[PromptVariable]
    parameters: ModelParameters
    commit_message: str
    author: str
    created_at: AwareDatetime
    labels: list[str]

    @classmethod
    def of(cls, event: PromptVersionCreatedV1, labels: list[str]) -> PromptVersionOut:
        """The view of a stored version."""
        return cls(
            name=event.name,
            version=event.version,
            kind=event.kind,
            template=event.template,
            messages=event.messages,
            variables=event.variables,
            parameters=event.parameters,
            commit_message=event.commit_message,
            author=event.author,
            created_at=event.created_at,
            labels=labels,
        )


class VersionList(BaseModel):
    """Every version of a prompt, oldest first, and where its labels point."""

    name: str
    versions: list[PromptVersionOut]
    labels: dict[str, int]


class PromptListItem(BaseModel):
    """A prompt in the listing."""

    name: str
    latest_version: int
    labels: dict[str, int]
    updated_at: AwareDatetime | None


class PromptList(BaseModel):
    """A page of prompts; pass `next_cursor` as `cursor` for the next one."""

    prompts: list[PromptListItem]
    next_cursor: str | None


class LabelOut(BaseModel):
    """A label after its move."""

    name: str
    label: str
    version: int
    previous_version: int | None


class RenderOut(BaseModel):
    """A rendered prompt: text for a text prompt, messages for a chat prompt."""

    name: str
    version: int
    kind: Literal["chat", "text"]
    text: str | None
    messages: list[ChatMessage] | None


class DiffOut(BaseModel):
    """A unified diff between two versions."""

    name: str
    from_version: int
    to_version: int
    diff: str
