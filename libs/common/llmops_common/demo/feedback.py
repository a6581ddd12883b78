"""A model is deployed and answers tickets; each answer gets a correction, and the
corrections become a sealed dataset version."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from rich.progress import Progress, TaskID

from ..events import DatasetSealedV1, Event, ModelPromotedV1
from ..kafka.one_shot import publish_once
from .scenario import ANSWER_TOKENS, ASSISTANT, PREMIUM, TENANT
from .session import Answer, Session, expect, poll_until
from .tickets import Ticket

T = TypeVar("T")
R = TypeVar("R")
CONCURRENCY = 4
SEAL_TIMEOUT = 120.0


async def deploy(session: Session, base_model: str) -> None:
    """Deploys ASSISTANT and PREMIUM as the bare base model, as a release pipeline would, and waits
    until the model server lists them."""
    for model in (ASSISTANT, PREMIUM):
        event = ModelPromotedV1(
            model_name=model, changed_by="demo", changed_at=datetime.now(UTC), base_model=base_model
        )
        await publish(session, event)

    async def listed() -> bool:
        models = expect(await session.http.get(session.url("model_server", "/v1/models")), 200)
        return {ASSISTANT, PREMIUM} <= {entry["id"] for entry in models["data"]}

    await poll_until(listed, 60)
    session.story.say(f"{ASSISTANT} and {PREMIUM} serve {base_model} (llmops.models.lifecycle)")


async def publish(session: Session, event: Event) -> None:
    """Publishes one event on the demo's broker."""
    await publish_once(session.platform.settings, event, source="llmops-demo")


async def answer_all(session: Session, tickets: Sequence[Ticket], description: str) -> list[Answer]:
    """ASSISTANT's answers to the tickets, a few in flight at once, with a progress bar."""
    return await in_parallel(session, tickets, description, lambda t: session.ask(ASSISTANT, t.question, ANSWER_TOKENS))


async def correct_all(session: Session, tickets: Sequence[Ticket], answers: Sequence[Answer]) -> None:
    """A thumbs-down with the right answer as a correction for each answer."""
    url = session.url("feedback_collector", "/v1/feedback")

    async def correct(pair: tuple[Ticket, Answer]) -> None:
        ticket, answer = pair
        body = {"request_id": answer.request_id, "score_kind": "thumbs", "score": -1, "correction": ticket.answer}
        outcome = expect(await session.http.post(url, json=body), 202)["correction_outcome"]
        if outcome != "example_published":
            raise RuntimeError(f"the correction of {answer.request_id} made no example: {outcome}")

    pairs = list(zip(tickets, answers, strict=True))
    await in_parallel(session, pairs, "corrections sent to the feedback collector", correct)


async def sealed_dataset(session: Session) -> DatasetSealedV1:
    """The feedback dataset's version that ingestion's size policy seals."""
    name = f"feedback-{ASSISTANT}"
    sealed = await session.events.first(DatasetSealedV1, lambda e: e.name == name and e.tenant == TENANT, SEAL_TIMEOUT)
    session.story.say(
        f"dataset [bold]{name}[/] version {sealed.version[:12]}: {sealed.rows} rows "
        f"({sealed.train_rows} to train on, {sealed.eval_rows} held out), sealed by its {sealed.trigger} policy"
    )
    return sealed


async def in_parallel(
    session: Session, items: Sequence[T], description: str, call: Callable[[T], Awaitable[R]]
) -> list[R]:
    """`call` on every item, CONCURRENCY at a time, results in item order, with a progress bar."""
    gate = asyncio.Semaphore(CONCURRENCY)
    with session.story.progress() as progress:
        task = progress.add_task(description, total=len(items))
        return list(await asyncio.gather(*(_one(gate, progress, task, call, item) for item in items)))


async def _one(
    gate: asyncio.Semaphore, progress: Progress, task: TaskID, call: Callable[[T], Awaitable[R]], item: T
) -> R:
    async with gate:
        result = await call(item)
    progress.advance(task)
    return result
