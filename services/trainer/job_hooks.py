"""What a running fine-tune tells the platform, from the training thread: progress, checkpoints, cancels."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmops_common.events import TrainingProgressV1, TrainingRequestedV1
from llmops_common.storage.artifacts import ArtifactStore

from .run_hooks import ProgressReport
from .store import Checkpoint, TrainerStore

log = logging.getLogger(__name__)

Publish = Callable[[TrainingProgressV1], Coroutine[Any, Any, object]]


class JobHooks:
    """`RunHooks` of one job. Progress is published on the service's loop without holding training up;
    a checkpoint counts only once its folder is in the artifact store and the store remembers it.
    `resumed_checkpoint_step` is the stored checkpoint a resumed job starts from, which progress names
    until the job stores a later one."""

    def __init__(
        self,
        request: TrainingRequestedV1,
        *,
        loop: asyncio.AbstractEventLoop,
        publish: Publish,
        store: TrainerStore,
        artifacts: ArtifactStore,
        stop_reason: Callable[[], str | None],
        resumed_checkpoint_step: int | None = None,
    ) -> None:
        self._request = request
        self._loop = loop
        self._publish = publish
        self._store = store
        self._artifacts = artifacts
        self._stop_reason = stop_reason
        # A resumed job's checkpoint is in the store before this process writes one of its own.
        self._checkpoint_step = resumed_checkpoint_step
        self._pending: list[Future[object]] = []

    def on_progress(self, report: ProgressReport) -> None:
        """Publishes a progress event; a broker hiccup loses a progress line, never the job."""
        event = TrainingProgressV1(
            job_id=self._request.job_id,
            tenant=self._request.tenant,
            model_name=self._request.model_name,
            step=report.step,
            total_steps=max(report.total_steps, 1),
            loss=report.loss,
            learning_rate=report.learning_rate,
            tokens_per_second=report.tokens_per_second,
            eta_seconds=report.eta_seconds,
            checkpoint_step=self._checkpoint_step,
            at=datetime.now(UTC),
        )
        self._pending = [future for future in self._pending if not future.done()]
        self._pending.append(asyncio.run_coroutine_threadsafe(self._publish(event), self._loop))

    def on_checkpoint(self, step: int, folder: Path) -> None:
        """Uploads the checkpoint and remembers it, so a restarted trainer resumes from here."""
        artifact = self._artifacts.put_folder(folder)
        self._store.record_checkpoint(self._request.job_id, Checkpoint(step, artifact))
        self._checkpoint_step = step
        log.info("checkpoint stored", extra={"job_id": self._request.job_id, "step": step})

    def cancel_reason(self) -> str | None:
        """Why training must stop now (a cancel, or the service stopping); None to go on."""
        return self._stop_reason()

    async def flush(self) -> None:
        """Waits for the progress events still being published."""
        for future in self._pending:
            try:
                await asyncio.wrap_future(future)
            except Exception as error:
                log.warning("a progress event was not published: %r", error)
