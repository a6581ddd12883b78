"""A prompt registry served over real HTTP, for clients that cannot take a TestClient (the CLI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from services.prompt_registry.app import create_app
from services.prompt_registry.settings import Settings
from tests.support.prompt_registry import publish_api_key
from tests.support.uvicorn_thread import serving


@pytest.fixture
async def running_registry(settings: PlatformSettings, tmp_path: Path, unique: str) -> AsyncIterator[tuple[str, str]]:
    """A registry on a free port, and a prompts key (not an admin one) of a tenant of this test's own."""
    api_key = await publish_api_key(settings, f"cli-{unique}", "prompts")
    port = free_port()
    registry_settings = Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "registry", "prompt_registry_port": port}
    )
    with serving(create_app(registry_settings), port, "prompt registry") as base_url:
        yield base_url, api_key
