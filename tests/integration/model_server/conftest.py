"""Model servers on a free port over real HTTP and the real broker, with an OpenAI SDK client each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from llmops_common.engines.base import InferenceEngine
from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings
from services.model_server.app import create_app
from services.model_server.settings import Settings
from services.model_server.tenant_gate import TenantGate
from tests.support.prompt_registry import publish_api_key
from tests.support.scripted_engine import ScriptedEngine
from tests.support.uvicorn_thread import serving

ServerFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def server_settings(settings: PlatformSettings, tmp_path: Path, unique: str) -> Settings:
    """The model server's settings: the test's broker and folder, a base model name of the test's own."""
    return Settings(
        **{**settings.model_dump(), "data_dir": tmp_path / "server", "base_model_name": f"base-{unique}"},
        retriever_timeout_seconds=3.0,
        telemetry_flush_seconds=0.05,
    )


@pytest.fixture
def start_server(server_settings: Settings) -> ServerFactory:
    """Starts a model server with settings overrides; the block ends it.

    With `double` (an engine test double) it serves that; without, the configured engine starts inside
    the server, on the server's own event loop, as in production.
    """

    @contextmanager
    def start(
        double: InferenceEngine | None = None, tenant_gate: TenantGate | None = None, **overrides: object
    ) -> Iterator[str]:
        port = free_port()
        settings = server_settings.model_copy(update={"model_server_port": port, **overrides})

        @asynccontextmanager
        async def given_engine(_: Settings) -> AsyncIterator[InferenceEngine]:
            assert double is not None
            yield double

        app = create_app(settings, open_engine=given_engine if double else None, tenant_gate=tenant_gate)
        with serving(app, port, "model server") as url:
            yield url

    return start


@pytest.fixture
async def key(settings: PlatformSettings, unique: str) -> str:
    """An API key of a tenant of this test's own, with no model list and no limits."""
    return await publish_api_key(settings, f"t-{unique}")


@pytest.fixture
def scripted_engine() -> ScriptedEngine:
    """The HTTP-layer tests' engine double."""
    return ScriptedEngine()


def sdk(base_url: str, api_key: str, **options: object) -> AsyncOpenAI:
    """The official OpenAI client pointed at a model server, without retries (tests see every answer)."""
    return AsyncOpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, **options)  # type: ignore[arg-type]
