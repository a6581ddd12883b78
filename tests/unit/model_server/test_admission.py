"""The bounded queue: so many run, so many wait, the next is refused at once."""

from __future__ import annotations

import asyncio

import pytest

from services.model_server.admission import Admission
from services.model_server.errors import OverloadedError


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
