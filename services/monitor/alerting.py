"""The monitor's alerting loop: measure, judge, publish the transitions, post them to the webhook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from llmops_common.events import AlertFiredV1, AlertResolvedV1, Event

from .alert_events import transition_events
from .alert_tracker import AlertTracker, Transition
from .detection import DetectionRun
from .query_links import query_url
from .webhook import SlackWebhook

log = logging.getLogger(__name__)

Publish = Callable[[Event], Awaitable[object]]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class Alerting:
    """One detector run at a time, turned into alert events; the clock comes from the caller."""

    def __init__(
        self,
        run: DetectionRun,
        tracker: AlertTracker,
        publish: Publish,
        *,
        query_base_url: str,
        webhook: SlackWebhook | None = None,
    ) -> None:
        self._run = run
        self._tracker = tracker
        self._publish = publish
        self._query_base_url = query_base_url
        self._webhook = webhook
        self._lock = asyncio.Lock()
        self._deliveries: set[asyncio.Task[bool]] = set()

    async def run_once(self, now: datetime) -> list[Transition]:
        """Measures at `now`, publishes what fired or resolved, and returns those transitions."""
        async with self._lock:  # a slow run and the next tick must not judge the same alerts twice
            measurements = await asyncio.to_thread(self._run.measure, now)
            transitions = self._tracker.observe(measurements, now)
            for transition in transitions:
                link = query_url(self._query_base_url, transition.measurement.query)
                for event in transition_events(transition, now, link):
                    await self._publish(event)
                    if self._webhook is not None and isinstance(event, AlertFiredV1 | AlertResolvedV1):
                        self._deliver(self._webhook, event)
            return transitions

    def _deliver(self, webhook: SlackWebhook, event: AlertFiredV1 | AlertResolvedV1) -> None:
        # In the background: a slow or down hook, with its retries, must not hold up the next detector run.
        task = asyncio.create_task(webhook.post(event))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def drain(self, timeout: float) -> None:
        """Waits up to `timeout` seconds for webhook posts still under way (at shutdown)."""
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=timeout)


async def run_on_schedule(
    alerting: Alerting, clock: Clock, interval_seconds: float, sleep: Sleep = asyncio.sleep
) -> None:
    """Runs `alerting` every `interval_seconds` until cancelled; a failed run is logged and the next one goes on.

    The first run waits one interval, so the service has started publishing by then.
    """
    while True:
        await sleep(interval_seconds)
        try:
            transitions = await alerting.run_once(clock())
        except Exception:
            log.exception("detector run failed")
        else:
            if transitions:
                log.info("detector run: %d alert transition(s)", len(transitions))
