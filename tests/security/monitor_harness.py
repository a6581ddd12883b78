"""The monitor's HTTP routes over a real, migrated chdb store and a key ring fed directly: no broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from llmops_common.auth.api_keys import issue_key
from llmops_common.auth.keyring import KeyRing
from llmops_common.service.http_errors import install_error_handlers
from llmops_common.settings import PlatformSettings
from llmops_common.storage.chdb_store import ChdbTelemetryStore
from llmops_common.storage.migrations import apply_migrations, load_migrations
from services.monitor.alerts_api import router as alerts_router
from services.monitor.api import router as api_router
from services.monitor.canary_api import router as canary_router
from services.monitor.canary_board import Canary
from services.monitor.canary_watch import CanaryProgress
from services.monitor.settings import Settings
from services.monitor.sql_api import router as sql_router


@dataclass
class CanaryStatus:
    """Stands in for the canary watch: the canaries in progress it reports."""

    canaries: list[Canary] = field(default_factory=list)

    def status(self) -> list[tuple[Canary, CanaryProgress]]:
        return [(canary, CanaryProgress()) for canary in self.canaries]


@dataclass(frozen=True)
class Deps:
    """What the monitor's routes read from its deps."""

    settings: Settings
    telemetry: ChdbTelemetryStore
    keyring: KeyRing
    sql_slots: asyncio.Semaphore
    canaries: CanaryStatus


def migrated_store(path: Path) -> ChdbTelemetryStore:
    """A chdb store at `path` with the platform's migrations applied; chdb holds one folder per process."""
    store = ChdbTelemetryStore(path)
    apply_migrations(store, load_migrations(PlatformSettings().clickhouse_migrations_dir))
    return store


def issue(keyring: KeyRing, tenant: str, *roles: str) -> str:
    """A key of `tenant` with `roles`, known to `keyring`; returns its token."""
    token, event = issue_key(tenant, roles=list(roles), issued_by="tests")
    keyring.apply(event)
    return token


def monitor_app(deps: Deps) -> FastAPI:
    """The monitor's SQL, summary, alerts, report and canary routes over `deps`."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Deps]]:
        yield {"deps": deps}

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)
    for router in (api_router, alerts_router, canary_router, sql_router):
        app.include_router(router)
    return app


def monitor_client(deps: Deps) -> TestClient:
    """A test client of `monitor_app(deps)`."""
    return TestClient(monitor_app(deps))


def deps_over(store: ChdbTelemetryStore, data_dir: Path, *, slots: int = 4, **settings: object) -> Deps:
    """Deps over `store` with an empty key ring and no canaries; `settings` override the monitor's."""
    return Deps(
        Settings(data_dir=data_dir, **settings),  # type: ignore[arg-type]
        store,
        KeyRing(),
        asyncio.Semaphore(slots),
        CanaryStatus(),
    )
