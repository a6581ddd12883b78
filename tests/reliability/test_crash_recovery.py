"""Each consuming service, as a real process, is killed with SIGKILL at 20%, 50% and 80% of a stream of
N inputs and started again after each kill. Once the stream is consumed, its derived state (ClickHouse
rows, index points, dataset examples, known requests, prompt versions) holds exactly the inputs: none
lost, none twice. Then its consumer group is rewound to offset 0 and the whole stream is consumed again:
the derived state does not change.

The monitor's rollups are compared too: a kill between a raw insert and its materialized views in the
embedded chDB keeps raw rows that no rollup counts, until the sink's rollup repair rebuilds their day.

Each kill lands while inputs are still coming: only the inputs up to 15% past the kill point are fed
before it, so a service can never have finished the stream when it is killed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.conftest import Launch, Platform, share_onnx_cache
from tests.reliability.streams import (
    FeedbackStream,
    IngestionStream,
    MonitorStream,
    PromptRegistryStream,
    RetrieverStream,
    Stream,
)
from tests.support.service_process import ServiceLauncher
from tests.support.topic_reader import eventually_async

pytestmark = pytest.mark.integration

EVENTS = 300
KILL_AT = (0.2, 0.5, 0.8)
FED_AHEAD = 0.15
"""How far past a kill point the inputs are fed before the kill."""
PROGRESS_TIMEOUT = 120.0


async def kill_when_reached(stream: Stream, launcher: ServiceLauncher, target: int) -> None:
    """SIGKILLs the running process once the derived state holds `target` inputs, then starts another."""
    running = launcher.started[-1]

    async def reached() -> bool:
        assert running.running, f"{running.service} exited by itself with {running.process.returncode}"
        return await stream.progress(running.url) >= target

    await eventually_async(reached, timeout=PROGRESS_TIMEOUT, interval=0.05)
    running.kill()
    await launcher.start_ready()


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "stream_class", [MonitorStream, RetrieverStream, IngestionStream, FeedbackStream, PromptRegistryStream]
)
async def test_a_service_killed_at_20_50_and_80_percent_keeps_each_input_once_also_after_a_replay(
    stream_class: type[Stream], platform: Platform, launch: Launch, onnx_cache: Path, unique: str
) -> None:
    share_onnx_cache(platform, onnx_cache)
    stream = stream_class(platform, unique, EVENTS)
    await stream.prepare()
    launcher = launch(stream.service, **stream.settings)
    await launcher.start_ready()

    for fraction in KILL_AT:
        target = round(EVENTS * fraction)
        await stream.feed(min(EVENTS, target + round(EVENTS * FED_AHEAD)), launcher.url())
        await kill_when_reached(stream, launcher, target)
    await stream.feed(EVENTS, launcher.url())
    await stream.settle(launcher.url())

    assert all(process.process.returncode == -9 for process in launcher.started[:3])
    expected = stream.expected()
    derived = await stream.derived(launcher)
    assert derived.ids == expected.ids

    await stream.replay_from_zero(launcher)
    replayed = await stream.derived(launcher)
    assert replayed.ids == expected.ids
    assert derived.totals == expected.totals
    assert replayed.totals == expected.totals
