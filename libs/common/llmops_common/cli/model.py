"""`llmops model init`: builds the default base model when no model can be downloaded."""

from __future__ import annotations

import logging
import time
from typing import Annotated

import typer

from ..settings import PlatformSettings
from ..storage.artifacts import open_artifact_store
from .console import console

model_app = typer.Typer(help="The base model the model server serves.", no_args_is_help=True)


def ensure_base_model(settings: PlatformSettings) -> None:
    """Builds and stores the default base model unless one is configured or stored already."""
    from ..models.default_base import stored_default

    if settings.base_model or stored_default(settings.data_dir) is not None:
        return
    console().print("no base model yet: building the default tiny model (a few minutes, once)")
    build_default(settings, max_seconds=180.0)


def build_default(settings: PlatformSettings, max_seconds: float) -> None:
    """Trains the default base model on the shipped corpus and stores it."""
    from ..models.default_base import init_default_base_model
    from ..models.pretraining import PretrainingPlan

    logging.getLogger("llmops_common.models").setLevel(logging.INFO)
    started = time.monotonic()
    ref = init_default_base_model(
        open_artifact_store(settings), settings.data_dir, plan=PretrainingPlan(max_seconds=max_seconds)
    )
    console().print(f"default base model stored as {ref.uri} in {time.monotonic() - started:.0f} s")


@model_app.command()
def init(
    force: Annotated[bool, typer.Option(help="Build again even when a default model is stored.")] = False,
    max_seconds: Annotated[float, typer.Option(help="Most seconds of pre-training.", min=1)] = 180.0,
) -> None:
    """Builds the default base model: a BPE tokenizer and a tiny Llama pre-trained on the shipped corpus."""
    from ..models.default_base import stored_default

    settings = PlatformSettings()
    if not force and stored_default(settings.data_dir) is not None:
        console().print("a default base model is stored already; --force builds it again")
        return
    build_default(settings, max_seconds)
