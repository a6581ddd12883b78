"""Prompt registries for tests: API keys published to the real broker, and registry apps to call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from llmops_common.auth.api_keys import issue_key
from llmops_common.kafka.admin import catalog_topics, create_topics
from llmops_common.kafka.bus import Bus
from llmops_common.settings import PlatformSettings
from services.prompt_registry.app import create_app
from services.prompt_registry.settings import Settings


async def publish_api_key(
    settings: PlatformSettings,
    tenant: str,
    *roles: str,
    models: Sequence[str] = (),
    rpm: int | None = None,
    tpm: int | None = None,
    max_input_tokens: int | None = None,
) -> str:
    """Issues a key for `tenant` on `llmops.auth.keys`, as `llmops keys create` does; returns the token.

    No role gives an app's key, `inference` only: give `data`, `prompts` or `admin` for what it must do.
    """
    await create_topics(settings, catalog_topics(settings))
    token, event = issue_key(
        tenant, roles=list(roles), models=models, rpm=rpm, tpm=tpm, max_input_tokens=max_input_tokens, issued_by="tests"
    )
    bus = Bus.create(
        settings, source="tests", state_dir=settings.data_dir / "key-publisher", registry=CollectorRegistry()
    )
    await bus.start()
    try:
        await bus.publisher.publish(event)
    finally:
        await bus.close()
    return token


@contextmanager
def registry_client(settings: PlatformSettings, data_dir: Path, **overrides: object) -> Iterator[TestClient]:
    """A registry instance of its own (its own state folder) on the test's broker, started and stopped."""
    registry_settings = Settings(**{**settings.model_dump(), "data_dir": data_dir, **overrides})
    with TestClient(create_app(registry_settings)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an API key."""
    return {"Authorization": f"Bearer {token}"}
