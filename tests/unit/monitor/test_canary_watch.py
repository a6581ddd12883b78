"""The canary watch without a broker: the board fed lifecycle events by hand, arms read from a table the
test sets, and a publisher that records. Each decision is published once, whatever the timing."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from llmops_common.errors import RequestTimeoutError
from llmops_common.events import (
    ArtifactRef,
    Event,
    ModelCanaryStartedV1,
    ModelPromotedV1,
    ModelRolledBackV1,
)
from llmops_common.kafka.envelope import Envelope
from services.monitor.canary_analysis import ArmStats, CanaryPolicy
from services.monitor.canary_board import Canary, CanaryBoard
from services.monitor.canary_watch import CanaryMetrics, CanaryWatch

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STABLE_REF = ArtifactRef(uri="file:///adapters/s1", sha256="a" * 64, size_bytes=10)
CANDIDATE_REF = ArtifactRef(uri="file:///adapters/c2", sha256="b" * 64, size_bytes=12)
GOOD = ArmStats(requests=100, errors=1, p95_latency_ms=400.0, p95_ttft_ms=80.0)
ERRORING = ArmStats(requests=100, errors=30, p95_latency_ms=400.0, p95_ttft_ms=80.0)
FEW = ArmStats(requests=5, errors=0, p95_latency_ms=100.0, p95_ttft_ms=10.0)


def canary_event(model: str = "bot") -> ModelCanaryStartedV1:
    return ModelCanaryStartedV1(
        model_name=model,
        base_model="tiny-llama",
        stable_adapter_version="s1",
        stable_adapter=STABLE_REF,
        candidate_adapter_version="c2",
        candidate_adapter=CANDIDATE_REF,
        candidate_percent=20,
        changed_by="evaluator",
        changed_at=T0,
    )


def envelope(event: Event, at: datetime = T0) -> Envelope:
    return Envelope(str(uuid.uuid4()), event.event_type, "tests", at)


@dataclass
class Bus:
    """Records what the watch publishes; reads it back onto the board when `reads_back`."""

    board: CanaryBoard
    reads_back: bool = True
    fail_next: bool = False
    published: list[Event] = field(default_factory=list)
    envelopes: dict[str, tuple[Event, Envelope]] = field(default_factory=dict)

    async def publish(self, event: Event) -> Envelope:
        await asyncio.sleep(0)  # a real publish yields to the loop
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("broker down")
        sent = envelope(event)
        self.published.append(event)
        self.envelopes[sent.id] = (event, sent)
        return sent

    async def wait_applied(self, event_id: str, timeout: float) -> None:
        if not self.reads_back:
            raise RequestTimeoutError(f"event {event_id} did not come back in {timeout:g}s")
        self.board.apply(*self.envelopes[event_id])


@dataclass
class Arms:
    """The figures the watch reads, per model; and the windows it asked for."""

    figures: dict[str, tuple[ArmStats, ArmStats]]
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    def read(self, canary: Canary, start: datetime, end: datetime) -> tuple[ArmStats, ArmStats]:
        self.windows.append((start, end))
        return self.figures[canary.model_name]


def watch_of(
    board: CanaryBoard, arms: Arms, bus: Bus, registry: CollectorRegistry | None = None, **policy: int
) -> CanaryWatch:
    return CanaryWatch(
        board,
        arms.read,
        CanaryPolicy(**policy),
        timedelta(minutes=15),
        bus.publish,
        bus.wait_applied,
        CanaryMetrics.create(registry or CollectorRegistry()),
    )


def started_board(*models: str) -> CanaryBoard:
    board = CanaryBoard()
    for model in models:
        board.apply(canary_event(model), envelope(canary_event(model)))
    return board


async def test_a_healthy_canary_is_promoted_once_naming_the_candidate() -> None:
    board = started_board("bot")
    bus = Bus(board)
    watch = watch_of(board, Arms({"bot": (GOOD, GOOD)}), bus)

    await watch.check_once(T0 + timedelta(minutes=1))
    await watch.check_once(T0 + timedelta(minutes=2))

    assert bus.published == [
        ModelPromotedV1(
            model_name="bot",
            base_model="tiny-llama",
            adapter_version="c2",
            adapter=CANDIDATE_REF,
            eval_id=None,
            changed_by="monitor",
            changed_at=T0 + timedelta(minutes=1),
        )
    ]
    assert board.in_progress() == []
    assert watch.status() == []


async def test_two_failed_checks_roll_back_to_stable_with_the_reasons() -> None:
    board = started_board("bot")
    bus = Bus(board)
    registry = CollectorRegistry()
    watch = watch_of(board, Arms({"bot": (GOOD, ERRORING)}), bus, registry)

    await watch.check_once(T0 + timedelta(minutes=1))
    assert bus.published == []
    [(_, progress)] = watch.status()
    assert (progress.checks, progress.last and progress.last.result.verdict) == (1, "fail")

    await watch.check_once(T0 + timedelta(minutes=2))

    reason = "error rate 30.0% against 1.0% on stable (more than 2.0% higher)"
    assert bus.published == [
        ModelRolledBackV1(
            model_name="bot",
            base_model="tiny-llama",
            adapter_version="s1",
            adapter=STABLE_REF,
            reason=f"canary of c2 failed 2 consecutive checks against s1: check 1: {reason}; check 2: {reason}",
            changed_by="monitor",
            changed_at=T0 + timedelta(minutes=2),
        )
    ]
    assert registry.get_sample_value("llmops_canary_checks_total", {"verdict": "fail"}) == 2
    assert registry.get_sample_value("llmops_canary_checks_total", {"verdict": "pass"}) == 0
    assert registry.get_sample_value("llmops_canary_decisions_total", {"decision": "rolled_back"}) == 1


async def test_too_little_traffic_never_decides() -> None:
    board = started_board("bot")
    bus = Bus(board)
    registry = CollectorRegistry()
    watch = watch_of(board, Arms({"bot": (GOOD, FEW)}), bus, registry)

    for minute in range(1, 11):
        await watch.check_once(T0 + timedelta(minutes=minute))

    assert bus.published == []
    [(canary, progress)] = watch.status()
    assert canary.model_name == "bot"
    assert progress.checks == 10
    assert progress.last is not None
    assert progress.last.result.reasons == ("the candidate arm has 5 requests, fewer than the 50 needed",)
    assert registry.get_sample_value("llmops_canary_checks_total", {"verdict": "inconclusive"}) == 10


async def test_a_decision_not_read_back_yet_is_not_published_again() -> None:
    board = started_board("bot")
    bus = Bus(board, reads_back=False)
    watch = watch_of(board, Arms({"bot": (GOOD, GOOD)}), bus)

    await asyncio.gather(*(watch.check_once(T0 + timedelta(seconds=s)) for s in (60, 61, 62)))
    await watch.check_once(T0 + timedelta(minutes=5))

    assert [type(event) for event in bus.published] == [ModelPromotedV1]
    [(_, progress)] = watch.status()
    assert (progress.outcome, progress.checks) == ("promoted", 1)


async def test_a_restarted_monitor_finds_no_canary_once_its_decision_is_on_the_topic() -> None:
    first_board = started_board("bot")
    bus = Bus(first_board)
    await watch_of(first_board, Arms({"bot": (GOOD, GOOD)}), bus).check_once(T0 + timedelta(minutes=1))

    replayed = CanaryBoard()  # the restarted monitor's replica replays the topic in log order
    started = canary_event("bot")
    replayed.apply(started, envelope(started))
    for event, sent in bus.envelopes.values():
        replayed.apply(event, sent)
    again = Bus(replayed)
    await watch_of(replayed, Arms({"bot": (GOOD, GOOD)}), again).check_once(T0 + timedelta(minutes=2))

    assert again.published == []
    assert len(bus.published) == 1


async def test_a_canary_started_again_is_judged_afresh() -> None:
    board = started_board("bot")
    bus = Bus(board, reads_back=False)
    arms = Arms({"bot": (GOOD, ERRORING)})
    watch = watch_of(board, arms, bus)
    await watch.check_once(T0 + timedelta(minutes=1))

    board.apply(canary_event("bot"), envelope(canary_event("bot"), T0 + timedelta(minutes=2)))
    await watch.check_once(T0 + timedelta(minutes=3))

    assert bus.published == []  # one failure on each canary: no two in a row on one
    [(_, progress)] = watch.status()
    assert (progress.checks, len(progress.streak.failures)) == (1, 1)


async def test_a_failed_publish_is_decided_again_at_the_next_check() -> None:
    board = started_board("bot")
    bus = Bus(board, fail_next=True)
    watch = watch_of(board, Arms({"bot": (GOOD, GOOD)}), bus)

    await watch.check_once(T0 + timedelta(minutes=1))
    assert bus.published == []
    await watch.check_once(T0 + timedelta(minutes=2))

    assert [type(event) for event in bus.published] == [ModelPromotedV1]


async def test_a_check_reads_since_the_canary_started_or_the_window_if_shorter() -> None:
    board = started_board("bot")
    arms = Arms({"bot": (FEW, FEW)})
    watch = watch_of(board, arms, Bus(board))

    await watch.check_once(T0 + timedelta(minutes=5))
    await watch.check_once(T0 + timedelta(minutes=40))

    assert arms.windows == [
        (T0, T0 + timedelta(minutes=5)),
        (T0 + timedelta(minutes=25), T0 + timedelta(minutes=40)),
    ]


@pytest.mark.parametrize(
    "ending",
    [
        ModelPromotedV1(model_name="bot", base_model="b", changed_by="ops", changed_at=T0),
        ModelRolledBackV1(model_name="bot", base_model="b", reason="manual", changed_by="ops", changed_at=T0),
    ],
)
async def test_a_canary_ended_by_someone_else_is_no_longer_checked(ending: Event) -> None:
    board = started_board("bot", "other")
    arms = Arms({"bot": (GOOD, FEW), "other": (GOOD, FEW)})
    watch = watch_of(board, arms, Bus(board))

    board.apply(ending, envelope(ending))
    await watch.check_once(T0 + timedelta(minutes=1))

    assert [canary.model_name for canary, _ in watch.status()] == ["other"]
    assert len(arms.windows) == 1
