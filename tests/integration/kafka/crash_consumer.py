"""A consumer process for the crash test: it appends each handled feedback id to a file, slowly."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry

from llmops_common.events import FeedbackSubmittedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.settings import PlatformSettings


async def main(bootstrap: str, topic: str, group: str, state_dir: Path, output: Path) -> None:
    settings = PlatformSettings(
        kafka_bootstrap=bootstrap,
        consumer_batch_size=10,
        kafka_session_timeout_ms=1000,
        kafka_heartbeat_interval_ms=300,
    )
    bus = Bus.create(settings, source="/crash-test", state_dir=state_dir, registry=CollectorRegistry())
    with output.open("a") as sink:

        async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
            sink.write(event.feedback_id + "\n")
            sink.flush()
            os.fsync(sink.fileno())
            await asyncio.sleep(0.01)

        bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
        await bus.start()
        await asyncio.Event().wait()


if __name__ == "__main__":
    bootstrap, topic, group, state_dir, output = sys.argv[1:6]
    asyncio.run(main(bootstrap, topic, group, Path(state_dir), Path(output)))
