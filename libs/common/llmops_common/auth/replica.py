"""A service's key ring, kept current from `llmops.auth.keys`: a new or revoked key counts at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..events import ApiKeyIssuedV1, ApiKeyRevokedV1, Event
from ..kafka.envelope import Envelope
from ..kafka.replica import POLL_WAIT_MS
from ..service.replicas import running_replica
from ..service.runtime import ServiceRuntime
from ..topics import AUTH_KEYS
from .keyring import KeyRing


@asynccontextmanager
async def running_key_ring(
    runtime: ServiceRuntime, *, replay_timeout: float = 60.0, poll_wait_ms: int = POLL_WAIT_MS
) -> AsyncIterator[KeyRing]:
    """A key ring that has replayed every key, and follows the topic for as long as the block lasts."""
    keyring = KeyRing()

    def apply(event: Event, envelope: Envelope) -> None:
        if isinstance(event, ApiKeyIssuedV1 | ApiKeyRevokedV1):
            keyring.apply(event)

    async with running_replica(runtime, AUTH_KEYS, apply, replay_timeout=replay_timeout, poll_wait_ms=poll_wait_ms):
        yield keyring
