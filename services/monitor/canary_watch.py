"""The monitor's canary analysis: every `canary_check_seconds` each canary in progress is checked from
ClickHouse and, once its run of checks decides, promoted or rolled back on `llmops.models.lifecycle`.

Each decision is published once. It is keyed by the id of the event that started the canary: once
published, that canary is not checked again, and the replica reading the decision back ends it on the
board. A restarted monitor replays the topic, where the decision follows the canary event (one key, one
partition), so it finds no canary left to decide. Streaks are kept in memory only: a restart starts them
afresh, which can delay a decision but never hasten one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from prometheus_client import CollectorRegistry, Counter

from llmops_common.errors import RequestTimeoutError
from llmops_common.events import Event
from llmops_common.kafka.envelope import Envelope
from llmops_common.service.background import running_in_background
from llmops_common.service.replicas import running_replica
from llmops_common.service.runtime import ServiceRuntime
from llmops_common.storage.errors import TelemetryQueryError
from llmops_common.storage.telemetry import TelemetryStore
from llmops_common.topics import MODELS_LIFECYCLE, TopicSpec

from .canary_analysis import VERDICTS, ArmStats, CanaryPolicy, CheckResult, Streak, decide, judge
from .canary_board import Canary, CanaryBoard
from .canary_events import promotion, rollback
from .canary_queries import read_arms
from .monitoring import utc_now
from .settings import Settings

log = logging.getLogger(__name__)

READ_BACK_TIMEOUT_SECONDS = 30.0
"""How long a decision waits to be read back from the topic before the check goes on (it stays decided)."""
REPLICA_POLL_WAIT_MS = 200
"""Checks run seconds apart: the lifecycle replica need not poll a quiet broker more often than this."""

ReadArms = Callable[[Canary, datetime, datetime], tuple[ArmStats, ArmStats]]
"""The stable and candidate figures of a canary over [start, end); blocking."""
Publish = Callable[[Event], Awaitable[Envelope]]
WaitApplied = Callable[[str, float], Awaitable[None]]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Outcome = Literal["promoted", "rolled_back"]


@dataclass(frozen=True)
class CanaryCheck:
    """One check of one canary: when, over which window, each arm's figures, and the verdict."""

    checked_at: datetime
    window_start: datetime
    window_end: datetime
    stable: ArmStats
    candidate: ArmStats
    result: CheckResult


@dataclass
class CanaryProgress:
    """What the watch knows of one canary: its checks so far and the decision it published, if any."""

    checks: int = 0
    streak: Streak = field(default_factory=Streak)
    last: CanaryCheck | None = None
    outcome: Outcome | None = None
    """Set once the decision is published; the canary is then waiting to be read back as ended."""


@dataclass(frozen=True)
class CanaryMetrics:
    """Counters of canary checks by verdict, and of the decisions published."""

    checks: Counter
    decisions: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> CanaryMetrics:
        """The counters in `registry`, every verdict and outcome at zero."""
        checks = Counter("llmops_canary_checks", "Canary checks, by verdict.", ["verdict"], registry=registry)
        decisions = Counter(
            "llmops_canary_decisions", "Canaries promoted or rolled back.", ["decision"], registry=registry
        )
        for verdict in VERDICTS:
            checks.labels(verdict)
        for outcome in ("promoted", "rolled_back"):
            decisions.labels(outcome)
        return cls(checks, decisions)


class CanaryWatch:
    """Checks the board's canaries and publishes their decisions; one check at a time."""

    def __init__(
        self,
        board: CanaryBoard,
        read: ReadArms,
        policy: CanaryPolicy,
        window: timedelta,
        publish: Publish,
        wait_applied: WaitApplied,
        metrics: CanaryMetrics,
    ) -> None:
        self._board = board
        self._read = read
        self._policy = policy
        self._window = window
        self._publish = publish
        self._wait_applied = wait_applied
        self._metrics = metrics
        self._progress: dict[str, CanaryProgress] = {}
        self._lock = asyncio.Lock()

    def status(self) -> list[tuple[Canary, CanaryProgress]]:
        """Each canary in progress, by model name, with what its checks found so far."""
        return [(canary, self._progress.get(canary.event_id, CanaryProgress())) for canary in self._board.in_progress()]

    async def check_once(self, now: datetime) -> list[tuple[Canary, CanaryCheck]]:
        """Checks every undecided canary at `now`, publishes the decisions due, and returns the checks."""
        async with self._lock:  # a slow check and the next tick must not decide one canary twice
            canaries = self._board.in_progress()
            live = {canary.event_id for canary in canaries}
            self._progress = {event_id: p for event_id, p in self._progress.items() if event_id in live}
            checked = []
            for canary in canaries:
                progress = self._progress.setdefault(canary.event_id, CanaryProgress())
                if progress.outcome is not None:
                    continue
                try:
                    check = await asyncio.to_thread(self._check, canary, now)
                except TelemetryQueryError as error:
                    log.warning("canary check of %s failed: %s", canary.model_name, error.message)
                    continue
                self._record(canary, progress, check)
                checked.append((canary, check))
                await self._act(canary, progress, now)
            return checked

    def _check(self, canary: Canary, now: datetime) -> CanaryCheck:
        start = max(canary.started_at, now - self._window)
        stable, candidate = self._read(canary, start, now)
        return CanaryCheck(now, start, now, stable, candidate, judge(stable, candidate, self._policy))

    def _record(self, canary: Canary, progress: CanaryProgress, check: CanaryCheck) -> None:
        progress.checks += 1
        progress.last = check
        progress.streak = progress.streak.after(check.result)
        self._metrics.checks.labels(check.result.verdict).inc()
        log.info(
            "canary %s %s: %s (stable %d requests, candidate %d)%s",
            canary.model_name,
            canary.event.candidate_adapter_version,
            check.result.verdict,
            check.stable.requests,
            check.candidate.requests,
            f": {'; '.join(check.result.reasons)}" if check.result.reasons else "",
        )

    async def _act(self, canary: Canary, progress: CanaryProgress, now: datetime) -> None:
        decision = decide(progress.streak, self._policy)
        if decision == "hold":
            return
        event = promotion(canary, now) if decision == "promote" else rollback(canary, progress.streak.failures, now)
        outcome: Outcome = "promoted" if decision == "promote" else "rolled_back"
        try:
            envelope = await self._publish(event)
        except Exception:
            # Nothing recorded: the streak stands and the next check decides again.
            log.exception("publishing the %s decision on the canary of %s failed", outcome, canary.model_name)
            return
        progress.outcome = outcome
        self._metrics.decisions.labels(outcome).inc()
        log.info("canary %s %s %s", canary.model_name, canary.event.candidate_adapter_version, outcome)
        try:
            await self._wait_applied(envelope.id, READ_BACK_TIMEOUT_SECONDS)
        except RequestTimeoutError as error:
            log.warning("%s; the canary of %s stays decided", error.message, canary.model_name)


async def run_checks(watch: CanaryWatch, clock: Clock, interval_seconds: float, sleep: Sleep = asyncio.sleep) -> None:
    """Checks every `interval_seconds` until cancelled; a failed check is logged and the next one goes on.

    The first check waits one interval, so the service has started publishing by then.
    """
    while True:
        await sleep(interval_seconds)
        try:
            await watch.check_once(clock())
        except Exception:
            log.exception("canary check failed")


@asynccontextmanager
async def running_canary_watch(
    runtime: ServiceRuntime,
    settings: Settings,
    store: TelemetryStore,
    *,
    topic: TopicSpec = MODELS_LIFECYCLE,
    clock: Clock = utc_now,
) -> AsyncIterator[CanaryWatch]:
    """Replays `topic` into a board of canaries, then checks them on schedule for the length of the block."""
    board = CanaryBoard()

    async def publish(event: Event) -> Envelope:
        await runtime.bus.broker.connect()  # the bus may not be started yet; connecting twice is a no-op
        return await runtime.bus.publisher.publish(event, topic=topic.name)

    async with running_replica(runtime, topic, board.apply, poll_wait_ms=REPLICA_POLL_WAIT_MS) as replica:
        watch = CanaryWatch(
            board,
            partial(read_arms, store),
            settings.canary_policy(),
            timedelta(seconds=settings.canary_window_seconds),
            publish,
            replica.wait_applied,
            CanaryMetrics.create(runtime.registry),
        )
        async with running_in_background(run_checks(watch, clock, settings.canary_check_seconds)):
            yield watch
