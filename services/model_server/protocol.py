"""OpenAI's request and response schemas for chat and text completions, and the platform's extensions.

Requests ignore fields they do not know (as OpenAI's SDK may send newer ones); responses carry exactly
OpenAI's fields plus `served` and `sources`, which SDKs keep as extra attributes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.prompts.refs import LABEL_PATTERN, NAME_PATTERN


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PromptRefBody(_Request):
    """`prompt_ref`: a registry prompt rendered with `variables` from the server's replica."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, max_length=128)
    label: str | None = Field(default=None, pattern=LABEL_PATTERN, max_length=64)
    version: int | None = Field(default=None, ge=1)
    variables: dict[str, Any] = Field(default_factory=dict)


class RagBody(_Request):
    """`rag`: retrieve `top_k` chunks of the tenant's `collection` and put them into the context; an unknown
    collection is a 404."""

    model_config = ConfigDict(extra="forbid")

    collection: str = Field(default=DEFAULT_COLLECTION, min_length=1, max_length=128)
    top_k: int = Field(default=4, ge=1, le=50)
    on_timeout: Literal["fail", "no_context"] = "fail"
    """`fail` answers 504 when the retriever is late; `no_context` answers without retrieved chunks."""


class StreamOptions(_Request):
    """`stream_options`."""

    include_usage: bool = False


class _Generation(_Request):
    model: str = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0, le=2)
    top_p: float = Field(default=1.0, gt=0, le=1)
    n: int = Field(default=1, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)
    """A 64-bit integer, as OpenAI's and vLLM's; torch cannot seed a generator from a larger one."""
    user: str | None = Field(default=None, max_length=256)
    stream: bool = False
    stream_options: StreamOptions | None = None
    prompt_ref: PromptRefBody | None = None
    rag: RagBody | None = None

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences")
        return stop

    def stop_sequences(self) -> tuple[str, ...]:
        """The stop sequences as a tuple, empty ones dropped."""
        stops = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return tuple(stop for stop in stops if stop)

    def include_usage(self) -> bool:
        """Whether a stream ends with a usage chunk."""
        return self.stream_options is not None and self.stream_options.include_usage


class ChatMessage(_Request):
    """One message; content may be a string or OpenAI's list of text parts."""

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text, its text parts joined."""
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(_Generation):
    """`POST /v1/chat/completions`."""

    messages: list[ChatMessage] = Field(default_factory=list)


class CompletionRequest(_Generation):
    """`POST /v1/completions`."""

    prompt: str | list[str] = ""
    echo: bool = False

    def prompts(self) -> list[str]:
        """The prompts, one or many."""
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)


class Served(BaseModel):
    """What served the request: the platform's extension, also in telemetry."""

    model: str
    base_model: str
    adapter_version: str | None
    canary_arm: Literal["stable", "candidate"] | None
    prompt_name: str | None = None
    prompt_version: int | None = None


class Source(BaseModel):
    """A retrieved chunk the answer's context held."""

    doc_id: str
    chunk_index: int
    score: float
    metadata: dict[str, Any] = Field(default_factory=dict)


class ModelCard(BaseModel):
    """An entry of `GET /v1/models`."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """`GET /v1/models`."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
