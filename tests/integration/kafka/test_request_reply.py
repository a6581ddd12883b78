"""Request/reply over the real broker: replies reach the instance that asked, and a timeout is clear."""

from __future__ import annotations

import asyncio

import pytest

from llmops_common.errors import RequestTimeoutError
from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.events.retrieval import RetrievedChunk
from llmops_common.kafka.bus import Bus
from llmops_common.kafka.consumer import EventContext
from llmops_common.kafka.request_reply import Requester, send_reply
from llmops_common.settings import PlatformSettings
from tests.integration.kafka.conftest import BusFactory, make_topics


def question(n: int) -> RetrievalRequestedV1:
    return RetrievalRequestedV1(request_id=f"q-{n}", tenant="acme", collection="docs", query=f"question {n}")


async def start_responder(bus: Bus, requests: str, group: str) -> None:
    async def answer(request: RetrievalRequestedV1, context: EventContext) -> None:
        chunk = RetrievedChunk(doc_id=f"doc-for-{request.query}", chunk_index=0, text="...", score=0.9)
        await send_reply(bus.publisher, context, RetrievalAnsweredV1(request_id=request.request_id, chunks=[chunk]))

    bus.consumer.subscribe(requests, [RetrievalRequestedV1], answer, group_id=group, from_beginning=False)
    await bus.start()


async def start_requester(bus: Bus, replies: str) -> Requester[RetrievalAnsweredV1]:
    requester = Requester(bus.broker, bus.publisher, replies, RetrievalAnsweredV1)
    await bus.start()
    await requester.wait_ready()
    return requester


async def answered_topics(
    make_bus: BusFactory, settings: PlatformSettings, unique: str, partitions: int
) -> tuple[str, str]:
    """A request topic with a responder on it, and a reply topic; their names."""
    requests, replies = f"req.{unique}", f"rep.{unique}"
    await make_topics(settings, requests, replies, partitions=partitions)
    await start_responder(make_bus(state="responder"), requests, f"retriever-{unique}")
    return requests, replies


async def test_each_requester_instance_gets_its_own_replies(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    requests, replies = await answered_topics(make_bus, settings, unique, partitions=3)
    first = await start_requester(make_bus(state="a"), replies)
    second = await start_requester(make_bus(state="b"), replies)

    answers = await asyncio.gather(
        *(
            requester.request(question(n), topic=requests, timeout=10)
            for n, requester in enumerate([first, second, first, second, first])
        )
    )

    assert [(a.request_id, a.chunks[0].doc_id) for a in answers] == [
        (f"q-{n}", f"doc-for-question {n}") for n in range(5)
    ]


async def test_a_request_nobody_answers_times_out_with_a_clear_error(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    requests, replies = f"req.{unique}", f"rep.{unique}"
    await make_topics(settings, requests, replies)
    requester = await start_requester(make_bus(), replies)

    with pytest.raises(RequestTimeoutError) as raised:
        await requester.request(question(1), topic=requests, timeout=0.3)

    assert str(raised.value) == f"no reply to llmops.retrieval.requested.v1 on {replies} within 0.3s"
    assert raised.value.status_code == 504


async def test_the_reply_consumer_fetches_only_while_a_request_waits(
    make_bus: BusFactory, settings: PlatformSettings, unique: str
) -> None:
    requests, replies = await answered_topics(make_bus, settings, unique, partitions=2)
    requester = await start_requester(make_bus(state="asker"), replies)
    listening_while_waiting: list[bool] = []

    async def answered(n: int) -> RetrievalAnsweredV1:
        asking = asyncio.ensure_future(requester.request(question(n), topic=requests, timeout=10))
        await asyncio.sleep(0)  # the request is registered and its publish under way
        listening_while_waiting.append(requester.listening)
        return await asking

    listening_before = requester.listening
    answers = [await answered(n) for n in range(3)]

    assert listening_before is False
    assert listening_while_waiting == [True, True, True]
    assert [a.request_id for a in answers] == ["q-0", "q-1", "q-2"]
    assert requester.listening is False
