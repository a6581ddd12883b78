"""`llmops dlq list|replay TOPIC`: the events consumers gave up on, and putting them through again."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ..kafka.dead_letter_log import DeadLetter, read_dead_letters, replay
from ..settings import PlatformSettings
from .console import console
from .kafka_calls import run_on_kafka

dlq_app = typer.Typer(
    help="Dead-lettered events: why they failed, and replaying them once the cause is fixed.", no_args_is_help=True
)

TopicArgument = Annotated[
    str, typer.Argument(help="The topic the events were consumed from, or a dead-letter topic (llmops.dlq.<group>).")
]
GroupOption = Annotated[
    str | None, typer.Option("--group", help="Only this consumer group's dead letters (default: every group's).")
]


@dlq_app.command("list")
def list_letters(
    topic: TopicArgument,
    group: GroupOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per line, for scripts.")] = False,
) -> None:
    """Lists the dead letters of a topic: when, which group, the event id and type, and the reason."""
    settings = PlatformSettings()
    letters = run_on_kafka(settings, read_dead_letters(settings, topic, group=group))
    if as_json:
        for letter in letters:
            typer.echo(json.dumps(_summary(letter)))
        return
    table = Table("dead-lettered at", "group", "event id", "type", "from", "reason")
    for letter in letters:
        table.add_row(
            letter.dead_lettered_at.isoformat(timespec="seconds"),
            letter.group,
            letter.event_id or "-",
            letter.event_type or "-",
            letter.origin,
            letter.reason,
        )
    console().print(table)
    typer.echo(_count(len(letters)))


@dlq_app.command("replay")
def replay_letters(
    topic: TopicArgument,
    event_id: Annotated[
        list[str], typer.Option("--event-id", help="Replay only this event (repeatable); default: all.")
    ] = [],  # noqa: B006
    group: GroupOption = None,
) -> None:
    """Publishes dead letters again, as they were, onto the topics they came from.

    Consumers skip an event they handled, so a replay reaches only the groups that did not.
    """
    settings = PlatformSettings()
    letters = run_on_kafka(settings, read_dead_letters(settings, topic, group=group))
    if event_id:
        wanted = set(event_id)
        letters = [letter for letter in letters if letter.event_id in wanted]
        missing = sorted(wanted - {letter.event_id for letter in letters})
        if missing:
            typer.echo(f"error: no dead letter of {topic} has event id {', '.join(missing)}", err=True)
            raise typer.Exit(1)
    sent = run_on_kafka(settings, replay(settings, letters))
    typer.echo(f"replayed {_count(sent)}")


def _count(letters: int) -> str:
    return f"{letters} dead letter" + ("" if letters == 1 else "s")


def _summary(letter: DeadLetter) -> dict[str, str]:
    return {
        "dead_lettered_at": letter.dead_lettered_at.isoformat(),
        "group": letter.group,
        "event_id": letter.event_id,
        "event_type": letter.event_type,
        "topic": letter.original_topic,
        "partition": letter.header("dlq_partition"),
        "offset": letter.header("dlq_offset"),
        "error_class": letter.header("dlq_error_class"),
        "reason": letter.header("dlq_reason"),
    }
