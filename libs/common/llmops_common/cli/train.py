"""`llmops train start|status|watch|cancel`: LoRA fine-tunes, through the training topics.

The topics are the source of truth: `start` and `cancel` publish requests on them, `status` reads them
to their current end and `watch` follows them; none of it calls the trainer's HTTP API, so the commands
work the same whichever trainer instance runs the job.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.live import Live

from ..events import ArtifactRef, TrainingCancelRequestedV1, TrainingRequestedV1
from ..kafka.admin import catalog_topics, create_topics
from ..kafka.one_shot import publish_once
from ..kafka.topic_scan import TopicScan, read_to_end
from ..settings import PlatformSettings
from ..storage.artifacts import open_artifact_store
from ..topics import DATA_DATASETS
from .console import console
from .kafka_calls import run_on_kafka
from .training_jobs import JOB_TOPICS, TrainingJob
from .training_render import SHORT_HASH, job_renderable
from .training_request import latest_sealed, new_job_id, parse_dataset_ref, parse_hyperparameters

SOURCE = "llmops-cli"
TIMED_OUT = 124
"""`watch`'s exit status when its --timeout passes, as GNU `timeout` exits."""

train_app = typer.Typer(
    help="LoRA fine-tunes: start one, show or watch its progress, cancel it (through the training topics).",
    no_args_is_help=True,
    add_completion=False,
)

JobId = Annotated[str, typer.Argument(help="The job id `train start` printed.")]


@train_app.command()
def start(
    model: Annotated[str, typer.Option(help="The deployed model the adapter is for.")],
    dataset: Annotated[
        str,
        typer.Option(
            metavar="NAME[@VERSION]",
            help="The dataset version to train on; without a version (or @latest), the tenant's latest sealed one.",
        ),
    ],
    tenant: Annotated[str, typer.Option(help="The tenant the job and the dataset belong to.")],
    base_model: Annotated[
        str | None,
        typer.Option(
            help="The base model, by the name the trainer gives it; by default LLMOPS_BASE_MODEL_NAME, else the "
            "name of LLMOPS_BASE_MODEL or of the default `llmops model init` stored."
        ),
    ] = None,
    job_id: Annotated[str | None, typer.Option(help="The job's id; by default <model>-<time>-<4 hex>.")] = None,
    hp: Annotated[
        list[str],
        typer.Option("--hp", metavar="KEY=VALUE", help="A hyperparameter, e.g. --hp r=8 --hp learning_rate=2e-4."),
    ] = [],  # noqa: B006
) -> None:
    """Requests a fine-tune on llmops.training.requests and prints its job id."""
    try:
        name, version = parse_dataset_ref(dataset)
        hyperparameters = parse_hyperparameters(hp)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    settings = TrainCliSettings()
    artifact: ArtifactRef | None = None
    if version is None:
        version, artifact = latest_version(settings, tenant, name)
    request = training_request(
        job_id=job_id or new_job_id(model, datetime.now(UTC)),
        tenant=tenant,
        model_name=model,
        base_model=base_model or configured_base_model(settings),
        dataset=name,
        dataset_version=version,
        dataset_artifact=artifact,
        hyperparameters=hyperparameters,
        reason="command",
        requested_by="cli",
    )
    run_on_kafka(settings, publish_once(settings, request, source=SOURCE))
    typer.echo(request.job_id)
    typer.echo(
        f"requested a fine-tune of {request.base_model} for {model} on {name}@{request.dataset_version[:SHORT_HASH]}; "
        f"follow it with `llmops train watch {request.job_id}`",
        err=True,
    )


@train_app.command()
def status(
    job_id: JobId,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object for scripts.")] = False,
) -> None:
    """Shows a job's progress (step, loss, learning rate, tokens/s, ETA) or how it ended."""
    settings = PlatformSettings()
    job = TrainingJob(job_id)
    for entry in run_on_kafka(settings, read_to_end(settings, *JOB_TOPICS)):
        job.apply(entry.event)
    if not job.known:
        typer.echo(f"error: no job {job_id!r} on the training topics (requests, progress, completed)", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(job.view().model_dump_json(indent=2))
        return
    console().print(job_renderable(job))


@train_app.command()
def watch(
    job_id: JobId,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds (exit status 124).", min=0)
    ] = None,
) -> None:
    """Follows a job live until it ends: exit status 0 when it succeeded, 1 when it failed."""
    settings = PlatformSettings()
    out = console()
    job = run_on_kafka(settings, follow_job(settings, job_id, timeout, out))
    out.print(job_renderable(job))
    if job.completed is None:
        typer.echo(f"error: {job_id} did not end within {timeout:g}s", err=True)
        raise typer.Exit(TIMED_OUT)
    if job.completed.status == "failed":
        raise typer.Exit(1)


@train_app.command()
def cancel(
    job_id: JobId,
    reason: Annotated[str, typer.Option(help="Why; the job then completes as failed with this reason.")] = "cancelled",
) -> None:
    """Asks the trainer to stop a job, on llmops.training.control."""
    settings = PlatformSettings()
    event = TrainingCancelRequestedV1(job_id=job_id, requested_by="cli", reason=reason)
    run_on_kafka(settings, publish_once(settings, event, source=SOURCE))
    typer.echo(f"cancel requested for {job_id}")


async def follow_job(settings: PlatformSettings, job_id: str, timeout: float | None, out: Console) -> TrainingJob:
    """Reads the training topics from the beginning and on, until the job completes or `timeout` passes.

    A terminal redraws one live line; a pipe gets a line per change instead, which a CI log keeps.
    """
    if settings.kafka_create_topics:
        # Following needs the topics to exist; a job asked for a moment ago may not have made them yet.
        names = {spec.name for spec in JOB_TOPICS}
        await create_topics(settings, [topic for topic in catalog_topics(settings) if topic.name in names])
    job = TrainingJob(job_id)
    live = Live(job_renderable(job), console=out, refresh_per_second=4, transient=True) if out.is_terminal else None
    if live is None:
        out.print(job_renderable(job))
    try:
        if live is not None:
            live.start()
        async with asyncio.timeout(timeout), TopicScan(settings, JOB_TOPICS, require=True) as scan:
            while job.completed is None:
                changed = [job.apply(entry.event) for entry in await scan.poll()]
                if any(changed) and job.completed is None:
                    if live is not None:
                        live.update(job_renderable(job))
                    else:
                        out.print(job_renderable(job))
    except TimeoutError:
        pass  # the caller sees the job has not completed
    finally:
        if live is not None:
            live.stop()
    return job


def latest_version(settings: PlatformSettings, tenant: str, name: str) -> tuple[str, ArtifactRef]:
    """The version and artifact of the tenant's latest sealed version of the dataset; exits 1 without one."""
    logged = run_on_kafka(settings, read_to_end(settings, DATA_DATASETS))
    sealed = latest_sealed((entry.event for entry in logged), tenant, name)
    if sealed is None:
        typer.echo(
            f"error: tenant {tenant} has no sealed version of dataset {name!r} on {DATA_DATASETS.name}; "
            f"seal one with `llmops data seal {name}`",
            err=True,
        )
        raise typer.Exit(1)
    return sealed.version, sealed.artifact


def training_request(**fields: Any) -> TrainingRequestedV1:
    """The request; one that fails validation (a tenant with a space, too long a job id) exits 1."""
    try:
        return TrainingRequestedV1(**fields)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        typer.echo(f"error: not a valid training request: {problems}", err=True)
        raise typer.Exit(1) from error


def configured_base_model(settings: TrainCliSettings) -> str:
    """`default_base_model`, or exit 1 when none is configured or stored."""
    try:
        return default_base_model(settings)
    except LookupError as error:
        typer.echo(f"error: {error}, or pass --base-model", err=True)
        raise typer.Exit(1) from error


class TrainCliSettings(PlatformSettings):
    """The platform's settings, and the trainer's setting that names its base model in requests."""

    base_model_name: str | None = None


def default_base_model(settings: TrainCliSettings) -> str:
    """The name the trainer gives its base model: LLMOPS_BASE_MODEL_NAME, else that of LLMOPS_BASE_MODEL
    (a folder by its name, a hub id as it is), else that of the default `llmops model init` stored.

    The trainer takes a request only for the base model it runs; resolving it as the trainer does, on the
    same settings, gives the name it answers to. `LookupError` when no base model is configured or stored.
    """
    if settings.base_model_name:
        return settings.base_model_name
    # Imported here: the module pulls in torch, which `train start` otherwise never needs.
    from ..models.default_base import public_model_name, resolve_base_model

    return public_model_name(resolve_base_model(settings.base_model, open_artifact_store(settings), settings.data_dir))
