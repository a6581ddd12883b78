"""Which label moves the evaluator acts on: those logged since it was first deployed, not the history.

`llmops.prompts` is compacted and kept forever, so a new consumer group reads every label move ever
made; evaluating them all on a first start would flood `llmops.eval.completed` with stale results. So
the first start records where the topic ends (per partition) in the state folder, and moves logged
before that position are passed over. The position is kept across restarts, so a move made while the
evaluator was down is still evaluated when it comes back, as a `training.completed` is. It is a log
position, not a time, so no clock is trusted.

A topic that now ends before the kept position was emptied and created again (the local broker keeps
nothing across restarts): the position is taken afresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from llmops_common.kafka.broker import client_kwargs
from llmops_common.settings import PlatformSettings

log = logging.getLogger(__name__)

METADATA_ATTEMPTS = 50
"""Tries, 0.1 s apart, for the topic's partitions to show in the metadata."""


@dataclass(frozen=True)
class LiveSince:
    """The first offset, per partition, of the moves the evaluator acts on."""

    offsets: Mapping[int, int]

    def includes(self, partition: int, offset: int) -> bool:
        """Whether the record at this place was logged after the evaluator was first deployed (a partition
        created since then is new throughout)."""
        return offset >= self.offsets.get(partition, 0)


async def topic_ends(settings: PlatformSettings, topic: str) -> dict[int, int]:
    """Each partition's end offset now: where its next record will be written."""
    consumer = AIOKafkaConsumer(**client_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        # Metadata of a topic that was just created can take a moment to list its partitions; without
        # them every move would count as new, so this waits rather than guesses.
        for _ in range(METADATA_ATTEMPTS):
            await consumer.topics()  # refreshes the cluster metadata
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if partitions:
                ends = await consumer.end_offsets(partitions)
                return {tp.partition: int(end) for tp, end in ends.items()}
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topic {topic} has no partitions; is it created?")
    finally:
        await consumer.stop()


def kept_live_since(path: Path, ends: Mapping[int, int]) -> LiveSince:
    """The position kept in `path`, written from `ends` on a first start or when the topic was emptied."""
    if path.exists():
        kept = {int(partition): offset for partition, offset in json.loads(path.read_text()).items()}
        if all(kept.get(partition, 0) <= end for partition, end in ends.items()):
            return LiveSince(kept)
        log.warning("the prompts topic ends before the kept position; it was created again", extra={"kept": kept})
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps({str(partition): offset for partition, offset in ends.items()}))
    scratch.replace(path)  # whole or absent, even if the process dies mid-write
    return LiveSince(dict(ends))


async def live_since(settings: PlatformSettings, topic: str, path: Path) -> LiveSince:
    """Reads the topic's ends and returns the kept position (see the module docstring)."""
    return kept_live_since(path, await topic_ends(settings, topic))
