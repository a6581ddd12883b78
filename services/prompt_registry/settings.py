"""Settings of the prompt registry, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from llmops_common.settings import ServiceSettings


class Settings(ServiceSettings):
    """The prompt registry's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "prompt_registry"

    prompt_protected_labels: frozenset[str] = frozenset({"production"})
    """Labels only an API key with the `admin` role may move."""
    prompt_max_template_chars: int = Field(default=32_768, ge=1)
    """The most characters a version's templates may hold, all messages together."""
    prompt_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    """The largest request body the registry reads."""
    prompt_write_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a write waits to read its own event back from Kafka before it fails with 504."""
    prompt_replay_timeout_seconds: float = Field(default=120.0, gt=0)
    """How long the replay of `llmops.prompts` at start may take before the service gives up."""
