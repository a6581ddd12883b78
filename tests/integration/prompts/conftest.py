"""A prompt registry served over real HTTP, for clients that cannot take a TestClient (the CLI)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from services.prompt_registry.app import create_app
from services.prompt_registry.settings import Settings
from tests.support.prompt_registry import publish_api_key

START_TIMEOUT_SECONDS = 90.0


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[str]:
    """Serves `app` on 127.0.0.1:`port` from a thread of its own until the block ends; yields its URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"registry-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    # `started` turns true only after the lifespan has replayed the keys and prompts and the port is bound.
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the prompt registry stopped while starting; see the log above")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the prompt registry did not start in {START_TIMEOUT_SECONDS}s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
async def running_registry(settings: PlatformSettings, tmp_path: Path, unique: str) -> AsyncIterator[tuple[str, str]]:
    """A registry on a free port, and an API key (no admin role) of a tenant of this test's own."""
    api_key = await publish_api_key(settings, f"cli-{unique}")
    port = free_port()
    registry_settings = Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "registry", "prompt_registry_port": port}
    )
    with serving(create_app(registry_settings), port) as base_url:
        yield base_url, api_key
