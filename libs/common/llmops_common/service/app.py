"""`create_service_app`: the FastAPI app of a service, with a lifespan that runs its Kafka bus."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI

from .. import __version__
from ..settings import ServiceSettings
from .body_guard import BodyGuard, GuardedBodies
from .health import router as health_router
from .http_errors import install_error_handlers
from .middleware import HttpMetrics, TraceAndMeasure
from .runtime import ServiceRuntime
from .startup_heap import freeze_startup_heap, wants_heap_frozen

DepsFactory = Callable[[ServiceRuntime], AbstractAsyncContextManager[Any]]
"""Opens a service's stores, registers its handlers on `runtime.bus`, and yields its frozen `Deps`."""


def create_service_app(
    settings: ServiceSettings,
    open_deps: DepsFactory,
    *,
    routers: Sequence[APIRouter] = (),
    guarded_bodies: GuardedBodies | None = None,
) -> FastAPI:
    """The service's HTTP app; at start it opens the deps, then starts consuming, and undoes both at stop.

    Routes reach the deps as `request.state.deps`. With `guarded_bodies`, requests under its prefix are
    authenticated against `deps.keyring` before their bodies are read, and their bodies are capped.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        runtime = ServiceRuntime.create(settings)
        # Topics first: opening the deps may start replicas that read them.
        await runtime.ensure_topics()
        async with open_deps(runtime) as deps, contextlib.AsyncExitStack() as running:
            # Consumers stop before the deps close, so no handler runs against a closed store.
            running.push_async_callback(runtime.close)
            await runtime.start()
            if wants_heap_frozen(app):
                freeze_startup_heap()
            yield {"runtime": runtime, "deps": deps, "http_metrics": HttpMetrics(runtime.registry)}

    app = FastAPI(title=f"llmops {settings.service_name}", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    if guarded_bodies is not None:
        # Added first, so it runs inside TraceAndMeasure: its refusals are traced and counted too.
        app.add_middleware(BodyGuard, policy=guarded_bodies)
    app.add_middleware(TraceAndMeasure)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    return app


@dataclass(frozen=True)
class RuntimeDeps:
    """The deps of a service that has no stores of its own yet: the runtime alone."""

    runtime: ServiceRuntime


@contextlib.asynccontextmanager
async def open_runtime_deps(runtime: ServiceRuntime) -> AsyncIterator[RuntimeDeps]:
    """A `DepsFactory` for services whose work needs nothing but the bus."""
    yield RuntimeDeps(runtime)
