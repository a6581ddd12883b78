"""A consumer process for the rebalance test: the platform's `EventConsumer` with a slow handler that
appends each handled feedback id to a file of its own instance, and leaves its group on SIGTERM.

    python -m tests.reliability.slow_consumer BOOTSTRAP TOPIC GROUP STATE_DIR OUTPUT HANDLER_SECONDS
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry

from llmops_common.events import FeedbackSubmittedV1
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.settings import PlatformSettings


async def main(bootstrap: str, topic: str, group: str, state_dir: Path, output: Path, seconds: float) -> None:
    """Consumes until SIGTERM, then stops its bus, which leaves the group."""
    settings = PlatformSettings(
        kafka_bootstrap=bootstrap,
        consumer_batch_size=10,
        kafka_session_timeout_ms=1000,
        kafka_heartbeat_interval_ms=300,
    )
    bus = Bus.create(settings, source="/rebalance-test", state_dir=state_dir, registry=CollectorRegistry())
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    with output.open("a") as handled:

        async def handle(event: FeedbackSubmittedV1, context: EventContext) -> None:
            await asyncio.sleep(seconds)
            handled.write(f"{event.feedback_id}\n")
            handled.flush()
            os.fsync(handled.fileno())

        bus.consumer.subscribe(topic, [FeedbackSubmittedV1], handle, group_id=group)
        await bus.start()
        await stopping.wait()
        await bus.close()


if __name__ == "__main__":
    bootstrap, topic, group, state_dir, output, seconds = sys.argv[1:7]
    asyncio.run(main(bootstrap, topic, group, Path(state_dir), Path(output), float(seconds)))
