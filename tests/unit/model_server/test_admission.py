"""The bounded queue: so many run, so many wait, the next is refused at once."""

from __future__ import annotations

import asyncio

import pytest

from services.model_server.admission import Admission
from services.model_server.errors import BadRequestError, OverloadedError


async def test_running_queued_and_refused() -> None:
    admission = Admission(max_running=1, max_queued=1)
    await admission.enter()
    waiting = asyncio.create_task(admission.enter())
    await asyncio.sleep(0)
    assert (admission.running, admission.queued) == (1, 1)
    with pytest.raises(OverloadedError):
        await admission.enter()
    admission.leave()
    waited = await waiting
    assert waited >= 0
    assert (admission.running, admission.queued) == (1, 0)
    admission.leave()
    assert admission.running == 0


async def test_a_request_takes_a_slot_per_sequence() -> None:
    admission = Admission(max_running=4, max_queued=4)
    await admission.enter(3)
    small = asyncio.create_task(admission.enter(2))  # 3 + 2 > 4: it waits
    await asyncio.sleep(0)
    assert (admission.running, admission.queued) == (3, 2)
    with pytest.raises(OverloadedError):
        await admission.enter(3)  # 2 + 3 waiting > 4
    admission.leave(3)
    await small
    assert (admission.running, admission.queued) == (2, 0)
    admission.leave(2)


async def test_more_sequences_than_the_server_runs_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError, match="generates 5 sequences"):
        await Admission(max_running=4, max_queued=100).enter(5)


async def test_waiting_is_first_in_first_out_and_a_cancelled_wait_gives_its_place_back() -> None:
    admission = Admission(max_running=4, max_queued=8)
    await admission.enter(4)
    large = asyncio.create_task(admission.enter(4))
    await asyncio.sleep(0)
    small = asyncio.create_task(admission.enter(1))
    await asyncio.sleep(0)
    admission.leave(1)  # one slot frees: the small one must not pass the large one
    await asyncio.sleep(0)
    assert not small.done()
    large.cancel()
    await asyncio.wait_for(small, 1)  # the large one left the queue: the small one fits now
    assert large.cancelled()
    assert (admission.running, admission.queued) == (4, 0)
