"""Events of API keys, on the compacted topic `llmops.auth.keys` that every service with an API replays."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from .base import Event, TenantId


class ApiKeyIssuedV1(Event):
    """A new API key: who it belongs to, what it may do, and the salted hash of its secret (never the secret)."""

    event_type = "llmops.auth.key.issued.v1"

    key_id: str = Field(pattern=r"^[0-9a-f]{12}$")
    tenant: TenantId
    roles: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    """Deployed models the key may call; empty means every model."""
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    max_input_tokens: int | None = Field(default=None, ge=1)
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")
    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    issued_by: str
    issued_at: AwareDatetime
    description: str = ""

    def event_key(self) -> str:
        # One key per API key: compaction keeps its last state, and a revocation supersedes the issue.
        return self.key_id


class ApiKeyRevokedV1(Event):
    """An API key no longer opens anything, on every service, from now on."""

    event_type = "llmops.auth.key.revoked.v1"

    key_id: str = Field(pattern=r"^[0-9a-f]{12}$")
    tenant: TenantId
    revoked_by: str
    revoked_at: AwareDatetime

    def event_key(self) -> str:
        return self.key_id
