"""A consumer group scaled from 1 to 3 instances and back to 1 while its handlers are slow (50 ms per event,
so batches are in flight at every rebalance) loses nothing: every event is handled.

Each instance is a process of the platform's `EventConsumer` with a state folder of its own, as each
service instance owns one. The scale-down is graceful (SIGTERM, one instance after the other), as an
orchestrator scales a deployment down. An event whose batch was in flight when its partition moved may be
handled again by the new owner, whose idempotency records are its own: delivery across instances is at
least once, and the stores behind the services are idempotent on the event's key for that reason.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic

from llmops_common.events import FeedbackSubmittedV1
from llmops_common.kafka.admin import create_topics
from tests.reliability.conftest import Platform
from tests.support.consumer_groups import wait_caught_up

pytestmark = pytest.mark.integration

BACKLOG = 60
"""Events kept waiting for the group while it scales up: 3 s of work for one instance."""
HANDLER_SECONDS = 0.05


class Instances:
    """Slow consumer processes of one group, each with its own state folder and output file."""

    def __init__(self, platform: Platform, topic: str, group: str, folder: Path) -> None:
        self._args = [platform.bootstrap, topic, group]
        self._folder = folder
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, number: int) -> None:
        """Starts instance `number`."""
        state, output = self._folder / f"state-{number}", self.output(number)
        command = [sys.executable, "-m", "tests.reliability.slow_consumer", *self._args, str(state), str(output)]
        with (self._folder / f"instance-{number}.log").open("wb") as log:
            self.processes[number] = subprocess.Popen(
                [*command, str(HANDLER_SECONDS)], stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self, number: int) -> None:
        """SIGTERM, and waits until the instance has left its group and exited."""
        process = self.processes[number]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0

    def output(self, number: int) -> Path:
        """The file instance `number` appends its handled ids to."""
        return self._folder / f"handled-{number}.txt"

    def handled(self, number: int) -> list[str]:
        """The ids instance `number` handled so far."""
        path = self.output(number)
        return path.read_text().split() if path.exists() else []

    def handled_by_all(self) -> list[str]:
        """The ids every instance handled, together."""
        return [event_id for number in self.processes for event_id in self.handled(number)]

    def kill_all(self) -> None:
        """Kills what still runs."""
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def instances(platform: Platform, unique: str, tmp_path: Path) -> Iterator[Instances]:
    """Instances of a group of the test's own on a topic of its own; killed at the end."""
    started = Instances(platform, f"rebalance.{unique}", f"g-{unique}", tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


def feedback(number: int) -> FeedbackSubmittedV1:
    """Event number `number`; its key spreads the events over the partitions."""
    return FeedbackSubmittedV1(
        feedback_id=f"fb-{number}",
        request_id=f"req-{number}",
        tenant="acme",
        score=1,
        submitted_at=datetime(2026, 11, 22, tzinfo=UTC),
    )


class Feed:
    """Publishes events in slices, keeping a backlog in front of the group, so that the instances that
    join find work whenever their partitions reach them, however long they take to start."""

    def __init__(self, platform: Platform, topic: str, instances: Instances) -> None:
        self._platform, self._topic, self._instances = platform, topic, instances
        self.published: list[str] = []

    async def publish(self, count: int) -> None:
        """Publishes the next `count` events."""
        events = [feedback(number) for number in range(len(self.published), len(self.published) + count)]
        async with self._platform.publisher() as publisher:
            await publisher.publish_many(events, topic=self._topic)
        self.published += [event.feedback_id for event in events]

    async def until(self, reached: Callable[[], bool], timeout: float) -> None:
        """Keeps `BACKLOG` events waiting until `reached()`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not reached():
            assert asyncio.get_running_loop().time() < deadline, f"not reached in {timeout:g}s"
            if len(self.published) - len(set(self._instances.handled_by_all())) < BACKLOG:
                await self.publish(BACKLOG)
            await asyncio.sleep(0.1)


@pytest.mark.timeout(180)
async def test_scaling_a_group_from_1_to_3_to_1_instances_with_slow_handlers_loses_nothing(
    platform: Platform, instances: Instances, unique: str
) -> None:
    topic, group = f"rebalance.{unique}", f"g-{unique}"
    await create_topics(platform.settings, [NewTopic(topic, 3, 1)])
    feed = Feed(platform, topic, instances)

    instances.start(1)
    await feed.until(lambda: len(instances.handled(1)) >= BACKLOG, timeout=60)
    instances.start(2)
    instances.start(3)
    # Each new instance handles events: the group rebalanced to three members, each with a partition.
    await feed.until(lambda: bool(instances.handled(2) and instances.handled(3)), timeout=90)
    await feed.publish(2 * BACKLOG)  # in flight while the group shrinks
    instances.stop(3)
    instances.stop(2)

    await wait_caught_up(platform.bootstrap, group, [topic], timeout=90)
    instances.stop(1)
    handled = Counter(instances.handled_by_all())
    assert set(handled) == set(feed.published)
    again = sum(handled.values()) - len(feed.published)
    print(f"{len(feed.published)} events; {again} handled a second time, after their partition moved mid-batch")
