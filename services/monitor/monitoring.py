"""Wires the detectors and the alerting loop into the monitor: built from its settings, run on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from llmops_common.embedding.backends import EmbeddingBackend, load_embedder
from llmops_common.embedding.model_files import EmbeddingModelError, locate_model
from llmops_common.embedding.sentence_embedder import Embedder
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.telemetry import TelemetryStore

from .alert_history import restore_tracker
from .alert_tracker import AlertTracker
from .alerting import Alerting, Clock, run_on_schedule
from .detection import DetectionRun, ModelDetector
from .detectors.cost import CostDetector
from .detectors.drift import DriftDetector
from .detectors.embedding import EmbeddingDriftDetector, TextEmbedder
from .detectors.latency import LatencyDetector
from .detectors.quality import QualityDetector
from .settings import Settings
from .webhook import SlackWebhook

log = logging.getLogger(__name__)

HISTORY_RESTORED = timedelta(days=30)
"""How far back a starting monitor reads alert states: the alerts topic's retention."""


def build_detection_run(store: TelemetryStore, settings: Settings, embedder: TextEmbedder | None) -> DetectionRun:
    """Every detector the settings turn on; embedding drift only with an embedder."""
    detectors: list[ModelDetector] = [
        DriftDetector(settings.drift),
        QualityDetector(settings.quality),
        LatencyDetector(settings.latency),
    ]
    if embedder is not None and settings.embedding_drift.enabled:
        detectors.append(EmbeddingDriftDetector(settings.embedding_drift, embedder))
    return DetectionRun(store, settings.detection, detectors, CostDetector(settings.cost))


class LazyEmbedder:
    """The embedding model, loaded on the first detector run that needs it (a worker thread), not at start:
    loading takes seconds. A model that cannot be loaded turns embedding drift off, logged once."""

    def __init__(self, model: str, backend: EmbeddingBackend | None, cache_dir: Path) -> None:
        self._model = model
        self._backend = backend
        self._cache_dir = cache_dir
        self._embedder: Embedder | None = None
        self._failed = False

    def embed_documents(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit vector per text; no rows when the model is unavailable."""
        if self._embedder is None and not self._failed:
            try:
                # One thread: a run embeds a few hundred prompts, and the sink needs the other cores.
                files = locate_model(self._model)
                self._embedder = load_embedder(files, self._backend, self._cache_dir, threads=1)
            except EmbeddingModelError as error:
                log.warning("embedding drift is off: %s", error.message)
                self._failed = True
        if self._embedder is None:
            return np.zeros((0, 0), dtype=np.float32)
        return self._embedder.embed_documents(texts)


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@contextlib.asynccontextmanager
async def running_alerting(
    runtime: ServiceRuntime, settings: Settings, store: TelemetryStore, clock: Clock = utc_now
) -> AsyncIterator[Alerting]:
    """Builds the alerting from the settings, restores open alerts, and runs it on its schedule."""
    embedder = (
        LazyEmbedder(settings.embedding_drift.model, settings.embedding_backend, settings.embedding_cache_dir)
        if settings.embedding_drift.enabled
        else None
    )
    tracker = AlertTracker(settings.detection)
    opened = await asyncio.to_thread(restore_tracker, store, tracker, clock() - HISTORY_RESTORED)
    log.info("alerting starts with %d open alert(s)", opened)
    webhook = SlackWebhook(settings.alert_webhook) if settings.alert_webhook.url else None
    alerting = Alerting(
        build_detection_run(store, settings, embedder),
        tracker,
        runtime.bus.publisher.publish,
        query_base_url=settings.detection.query_base_url or settings.url_of("monitor"),
        webhook=webhook,
    )
    task = None
    if settings.detection.enabled:
        task = asyncio.create_task(run_on_schedule(alerting, clock, settings.detection.interval_seconds))
    try:
        yield alerting
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if webhook is not None:
            await alerting.drain(timeout=settings.alert_webhook.timeout_seconds)
            await webhook.close()
