"""Follows `llmops.models.lifecycle`: loads the adapters an event needs, then swaps the deployment table.

Events are applied one at a time by one task. An adapter is loaded before any request can route to
it; if it fails to load, the table is left as it was (the old version keeps serving) and a
`ModelAdapterLoadFailedV1` is published. Adapters no deployment serves any more are unloaded after the
swap; the engine lets requests still running on them finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from llmops_common.engines.base import AdapterLoadError, InferenceEngine
from llmops_common.events import (
    Event,
    ModelAdapterLoadFailedV1,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRetiredV1,
    ModelRolledBackV1,
)
from llmops_common.events.base import ArtifactRef
from llmops_common.kafka.envelope import Envelope

from .adapter_files import AdapterFiles
from .deployments import BASE, Deployment, DeploymentTable, ServedVersion

log = logging.getLogger(__name__)

LifecycleEvent = ModelPromotedV1 | ModelCanaryStartedV1 | ModelRolledBackV1 | ModelRetiredV1
REPORT_RETRY_SECONDS = 1.0
PublishFailure = Callable[[ModelAdapterLoadFailedV1], Awaitable[None]]


class DeploymentController:
    """Owns the current `DeploymentTable`; requests read `table`, only this class replaces it."""

    def __init__(
        self,
        base_model: str,
        engine: InferenceEngine,
        files: AdapterFiles,
        publish_failure: PublishFailure,
        *,
        server: str,
        load_timeout: float = 120.0,
    ) -> None:
        self.table = DeploymentTable(base_model)
        self._engine = engine
        self._files = files
        self._publish_failure = publish_failure
        self._server = server
        self._load_timeout = load_timeout
        self._pending: dict[str, LifecycleEvent] = {}
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._leases: dict[str, int] = {}
        self._unloading: set[str] = set()
        self._released = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unreported: list[ModelAdapterLoadFailedV1] = []
        self.applied = 0
        """Lifecycle events handled so far (applied or refused), for tests and metrics."""

    def on_event(self, event: Event, _: Envelope) -> None:
        """The replica's callback: queues the event; only the latest per model matters, as compaction says."""
        if not isinstance(event, LifecycleEvent):
            return
        if not isinstance(event, ModelRetiredV1) and event.base_model != self.table.base_model:
            log.info("lifecycle event for %s on base model %s: not ours", event.model_name, event.base_model)
            return
        self._pending[event.model_name] = event
        self._idle.clear()
        self._wakeup.set()

    def lease(self, served: ServedVersion) -> None:
        """Marks an adapter as used by a request, so that it is not unloaded under it."""
        if served.adapter is not None:
            self._leases[served.adapter.name] = self._leases.get(served.adapter.name, 0) + 1

    def release(self, served: ServedVersion) -> None:
        """Ends a `lease`."""
        if served.adapter is not None:
            self._leases[served.adapter.name] -= 1
            self._released.set()

    async def wait_idle(self) -> None:
        """Returns once every queued event is handled (used before taking traffic)."""
        await self._idle.wait()

    async def run(self) -> None:
        """Handles queued events until cancelled; retries failure reports the broker did not take."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), REPORT_RETRY_SECONDS if self._unreported else None)
            self._wakeup.clear()
            while self._pending:
                name = next(iter(self._pending))
                await self._handle(self._pending.pop(name))
                self.applied += 1
            self._idle.set()
            await self._publish_unreported()

    async def _handle(self, event: LifecycleEvent) -> None:
        if isinstance(event, ModelRetiredV1):
            self._swap(self.table.without(event.model_name))
            return
        current = self.table.deployments.get(event.model_name)
        try:
            deployment = await self._deployment_for(event, current)
        except AdapterLoadError as error:
            log.warning("model %s: %s; the previous version keeps serving", event.model_name, error)
            await self._report(event, str(error))
            return
        self._swap(self.table.with_deployment(deployment))

    async def _deployment_for(self, event: LifecycleEvent, current: Deployment | None) -> Deployment:
        assert not isinstance(event, ModelRetiredV1)  # noqa: S101 - handled by the caller
        candidate: ServedVersion | None = None
        percent = 0.0
        if isinstance(event, ModelCanaryStartedV1):
            stable = await self._served(event.stable_adapter_version, event.stable_adapter, current)
            candidate = await self._served(event.candidate_adapter_version, event.candidate_adapter, current)
            percent = event.candidate_percent
        else:
            stable = await self._served(event.adapter_version, event.adapter, current)
        # Each event says who owns the model: compaction keeps only the latest, so none inherits it.
        return Deployment(event.model_name, stable, candidate, percent, event.owner_tenant, event.shared)

    async def _served(self, version: str | None, ref: ArtifactRef | None, current: Deployment | None) -> ServedVersion:
        if version is None:
            return BASE
        if ref is None:
            # An event may name a version without its artifact (an older canary's stable arm): reuse it
            # if this server serves it already.
            for served in (current.stable, current.candidate) if current else ():
                if served is not None and served.version == version:
                    return served
            raise AdapterLoadError(f"adapter {version} has no artifact and is not loaded here")
        try:
            spec = await self._files.spec_for(version, ref)
            if spec.name in self._unloading:
                self._unloading.discard(spec.name)  # still loaded: the pending unload is called off
            elif spec.name not in self.table.adapters_in_use():
                await asyncio.wait_for(self._engine.load_adapter(spec), self._load_timeout)
        except AdapterLoadError:
            raise
        except Exception as error:  # a missing artifact, a bad archive, a timeout: all keep the old one
            raise AdapterLoadError(f"adapter {version}: {type(error).__name__}: {error}") from error
        return ServedVersion(version, spec)

    def _swap(self, table: DeploymentTable) -> None:
        unused = self.table.adapters_in_use() - table.adapters_in_use()
        self.table = table
        for name in unused:
            # In the background: unloading waits for the requests that still use the adapter.
            self._unloading.add(name)
            task = asyncio.get_running_loop().create_task(self._unload(name))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _unload(self, name: str) -> None:
        while self._leases.get(name, 0) > 0 and name in self._unloading:
            self._released.clear()
            await self._released.wait()
        if name not in self._unloading:
            return  # served again meanwhile
        self._unloading.discard(name)
        self._leases.pop(name, None)
        try:
            await self._engine.unload_adapter(name)
        except Exception:
            log.exception("unloading adapter %s failed", name)

    async def _report(self, event: LifecycleEvent, error: str) -> None:
        assert not isinstance(event, ModelRetiredV1)  # noqa: S101 - retiring loads nothing
        if isinstance(event, ModelCanaryStartedV1):
            version, ref = event.candidate_adapter_version, event.candidate_adapter
        else:
            version, ref = event.adapter_version or "base", event.adapter
        failure = ModelAdapterLoadFailedV1(
            model_name=event.model_name,
            adapter_version=version,
            adapter=ref,
            lifecycle_event_type=event.event_type,
            server=self._server,
            error=error[:2000],
            failed_at=datetime.now(UTC),
        )
        self._unreported.append(failure)

    async def _publish_unreported(self) -> None:
        # During the replay at start the service's producer is not connected yet: reports wait here.
        while self._unreported:
            try:
                await self._publish_failure(self._unreported[0])
            except Exception as error:
                log.info("adapter load failure not published yet (%s); retrying", type(error).__name__)
                return
            self._unreported.pop(0)
