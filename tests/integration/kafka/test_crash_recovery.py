"""Offsets are committed only after handling: a consumer killed mid-stream loses nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from llmops_common.events import FeedbackSubmittedV1
from llmops_common.settings import PlatformSettings
from tests.integration.kafka.conftest import BusFactory, make_topics
from tests.support.topic_reader import eventually

EVENTS = 300


def handled(output: Path) -> list[str]:
    return output.read_text().split() if output.exists() else []


async def test_a_consumer_killed_mid_stream_resumes_with_nothing_lost(
    make_bus: BusFactory, settings: PlatformSettings, unique: str, tmp_path: Path
) -> None:
    topic, group, output = f"fb.{unique}", f"g-{unique}", tmp_path / "handled.txt"
    await make_topics(settings, topic, partitions=3)
    bus = make_bus()
    await bus.start()
    sent = [
        FeedbackSubmittedV1(
            feedback_id=f"fb-{n}",
            request_id=f"req-{n}",
            tenant="acme",
            score=1,
            submitted_at=datetime(2026, 11, 22, tzinfo=UTC),
        )
        for n in range(EVENTS)
    ]
    await bus.publisher.publish_many(sent, topic=topic)
    command = [
        sys.executable,
        "-m",
        "tests.integration.kafka.crash_consumer",
        settings.kafka_bootstrap,
        topic,
        group,
        str(tmp_path / "consumer-state"),
        str(output),
    ]

    first = subprocess.Popen(command)
    try:
        await eventually(lambda: len(handled(output)) >= EVENTS // 4, timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()
    killed_at = len(handled(output))
    assert killed_at < EVENTS

    second = subprocess.Popen(command)
    try:
        await eventually(lambda: len(set(handled(output))) == EVENTS, timeout=60)
    finally:
        second.terminate()
        second.wait(timeout=10)

    lines = handled(output)
    assert set(lines) == {event.feedback_id for event in sent}
    # Marks commit right after each effect, so at most the one event in flight at the kill repeats.
    assert len(lines) - EVENTS <= 1
