"""The gated adapter meets live traffic as a canary, the monitor promotes it, and the
same unseen questions as before get better answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.markup import escape
from rich.table import Table

from ..events import EvalCompletedV1, ModelCanaryStartedV1, ModelPromotedV1, ModelRolledBackV1
from .feedback import answer_all
from .scenario import ASSISTANT
from .session import Answer, Session, expect, poll_until
from .tickets import Ticket, tickets

CANARY_TIMEOUT = 300.0
SHOWN_ANSWERS = 3
HOUSE_ENDING = "We reply within one day."


@dataclass
class Traffic:
    """What live users saw during the canary: answers by arm and by adapter, and the last adapter."""

    arms: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    last_adapter: str | None = None


async def canary_to_promotion(session: Session, evaluated: EvalCompletedV1) -> Traffic:
    """Live traffic while the canary runs, until the promoted adapter serves every request."""
    version = evaluated.adapter_version
    canary = await session.events.first(
        ModelCanaryStartedV1, lambda e: e.model_name == ASSISTANT and e.candidate_adapter_version == version, 60
    )
    session.story.say(
        f"the evaluator started a canary: {canary.candidate_percent:g}% of {ASSISTANT}'s traffic goes to {version}; "
        "the monitor compares the arms' errors, latency and thumbs-down"
    )
    traffic, stop = Traffic(), asyncio.Event()
    with session.story.progress() as progress:
        task = progress.add_task("live requests", total=None)
        users = asyncio.create_task(_live_users(session, traffic, stop, lambda: progress.advance(task)))
        try:
            async with asyncio.timeout(CANARY_TIMEOUT):
                promoted = await _promotion_of(session, version)

                async def serving() -> bool:
                    return traffic.last_adapter == version

                await poll_until(serving, CANARY_TIMEOUT)
        finally:
            stop.set()
            await users
    session.story.say(
        f"the monitor promoted {promoted.adapter_version} ({promoted.changed_by}); live requests by arm: "
        f"{dict(traffic.arms)}, statuses {dict(traffic.statuses)}"
    )
    return traffic


async def _promotion_of(session: Session, version: str | None) -> ModelPromotedV1:
    events = session.events
    while True:
        rolled_back = events.latest(ModelRolledBackV1, lambda e: e.model_name == ASSISTANT)
        if rolled_back is not None:
            raise RuntimeError(f"the monitor rolled the canary back: {rolled_back.reason}")
        promoted = events.latest(
            ModelPromotedV1,
            lambda e: e.model_name == ASSISTANT and e.changed_by == "monitor" and e.adapter_version == version,
        )
        if promoted is not None:
            return promoted
        await events.changed(1.0)


async def _live_users(session: Session, traffic: Traffic, stop: asyncio.Event, tick: Callable[[], None]) -> None:
    """Users keep asking (each with a user id, which picks the arm) while the canary runs."""
    questions = tickets(40, seed=11)
    sent = 0
    while not stop.is_set():
        ticket = questions[sent % len(questions)]
        response = await session.chat(ASSISTANT, ticket.question, 8, user=f"user-{sent}")
        sent += 1
        traffic.statuses[response.status_code] += 1
        if response.status_code == 200:
            served = expect(response, 200)["served"]
            traffic.arms[served["canary_arm"] or "promoted"] += 1
            traffic.last_adapter = served["adapter_version"]
        tick()


async def better_answers(
    session: Session, unseen: Sequence[Ticket], before: Sequence[Answer], evaluated: EvalCompletedV1
) -> None:
    """The promoted model's answers to questions it never saw, beside the base model's."""
    after = await answer_all(session, unseen, "unseen questions asked again")
    table = Table(title="the same unseen questions, before and after", title_justify="left", show_lines=True)
    for column in ("question", "before (base model)", "after (promoted adapter)"):
        table.add_column(column, ratio=1)
    for ticket, old, new in list(zip(unseen, before, after, strict=True))[:SHOWN_ANSWERS]:
        table.add_row(ticket.question, escape(old.text.strip()), escape(new.text.strip()))
    session.story.show(table)
    session.story.say(
        f"answers ending in the house reply ({HOUSE_ENDING!r}): "
        f"[bold]{_house_replies(before)}/{len(unseen)}[/] before, "
        f"[bold]{_house_replies(after)}/{len(unseen)}[/] after; the evaluator's token F1 went from "
        f"{evaluated.baseline_metrics.get('token_f1', 0.0):.2f} to {evaluated.metrics.get('token_f1', 0.0):.2f}"
    )
    session.story.say("[dim]a model this small learns the reply, not yet to copy a 4-digit order number[/]")


def _house_replies(answers: Sequence[Answer]) -> int:
    return sum(a.text.strip().endswith(HOUSE_ENDING) for a in answers)
