"""The demo from start to end: the base model, the platform, then each chapter of the life cycle, and the
evaluation report as a PNG."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console

from ..cli.model import ensure_base_model
from ..events import EvalCompletedV1
from ..models.default_base import DEFAULT_MODEL_NAME, default_base_model_folder, public_model_name
from ..settings import SERVICE_NAMES, PlatformSettings
from ..storage.artifacts import open_artifact_store
from ..topics import (
    DATA_DATASETS,
    EVAL_COMPLETED,
    MODELS_LIFECYCLE,
    TRAINING_COMPLETED,
    TRAINING_PROGRESS,
    TRAINING_REQUESTS,
)
from .alerts import cost_alert, drift_alert
from .canary import better_answers, canary_to_promotion
from .event_log import following
from .feedback import answer_all, correct_all, deploy, sealed_dataset
from .fine_tune import evaluation, trained_adapter
from .knowledge import ingest_articles, rag_answer
from .platform import DemoPlatform, demo_environment, running_platform, wait_ready
from .scenario import ARTICLES, ASSISTANT, COLLECTION, CORRECTIONS, PREMIUM, scenario_settings
from .session import Session
from .story import Story
from .tickets import tickets

FOLLOWED = (DATA_DATASETS, TRAINING_REQUESTS, TRAINING_PROGRESS, TRAINING_COMPLETED, EVAL_COMPLETED, MODELS_LIFECYCLE)
READY_TIMEOUT = 300.0


def default_work_dir(settings: PlatformSettings) -> Path:
    """A fresh folder per run under the data folder: `<data dir>/demo/<UTC time>`."""
    return settings.data_dir / "demo" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def demo_base_model(settings: PlatformSettings, story: Story) -> tuple[str, str]:
    """The base model `make up` serves and its public name: the configured one, else the default that
    `llmops model init` stores in the data folder (built now if there is none, once)."""
    with story.chapter("The base model", "what `make up` serves: LLMOPS_BASE_MODEL, else the default tiny model"):
        if settings.base_model:
            chosen = settings.base_model, public_model_name(settings.base_model)
        else:
            ensure_base_model(settings)
            folder = default_base_model_folder(open_artifact_store(settings), settings.data_dir)
            if folder is None:
                raise RuntimeError("no default base model was stored")
            chosen = str(folder), DEFAULT_MODEL_NAME
        story.say(f"[bold]{chosen[1]}[/] from {chosen[0]}")
    return chosen


def run_demo(console: Console, work_dir: Path, base_model: str | None = None) -> Path:
    """Runs the demo in `work_dir` and returns the path of the evaluation report's PNG."""
    story = Story(console)
    user_settings = PlatformSettings()
    if base_model:
        user_settings = user_settings.model_copy(update={"base_model": base_model})
    model_path, model_name = demo_base_model(user_settings, story)
    env, settings = demo_environment(work_dir / "data", scenario_settings(model_path, model_name))
    with running_platform(env, settings, work_dir / "up.log") as platform:
        _start(platform, story)
        evaluated = asyncio.run(_life_cycle(platform, story, model_name))
    with story.chapter("The report", "the evaluator's Markdown report and its chart, from the artifact store"):
        png = _save_report(settings, evaluated, work_dir)
    story.show(story.summary())
    return png


def _start(platform: DemoPlatform, story: Story) -> None:
    intro = f"`llmops up` on free ports: a local broker, embedded stores, {len(SERVICE_NAMES)} services"
    with story.chapter("The platform", intro):
        with story.progress() as progress:
            task = progress.add_task("services ready", total=len(SERVICE_NAMES))
            wait_ready(platform, READY_TIMEOUT, lambda ready: progress.update(task, completed=ready))
        story.say(f"data in {platform.settings.data_dir}, logs in {platform.settings.data_dir / 'logs'}")


async def _life_cycle(platform: DemoPlatform, story: Story, base_model: str) -> EvalCompletedV1:
    headers = {"Authorization": f"Bearer {platform.dev_token()}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=120) as http,
        following(platform.settings, FOLLOWED) as events,
    ):
        session = Session(platform, events, story, http)
        with story.chapter("Ingest", f"{ARTICLES} help-center articles go into the knowledge base `{COLLECTION}`"):
            articles = await ingest_articles(session)
        with story.chapter("RAG", "a question answered from the knowledge base, with its sources"):
            await rag_answer(session, base_model, articles)
        unseen, teaching = tickets(12, seed=99), tickets(CORRECTIONS, seed=7)
        with story.chapter("Deploy", f"{ASSISTANT} goes live on the base model and answers customers' tickets"):
            await deploy(session, base_model)
            before = await answer_all(session, unseen, "questions kept aside to compare later")
            answers = await answer_all(session, teaching, "customers' questions answered")
        with story.chapter("Feedback", "support agents correct each answer: a thumbs-down with the right reply"):
            await correct_all(session, teaching, answers)
        with story.chapter("Dataset", "ingestion gathers the corrections into `feedback-<model>` and seals it"):
            sealed = await sealed_dataset(session)
        with story.chapter("Fine-tune", "auto-retrain asks for a LoRA fine-tune on the new version"):
            trained = await trained_adapter(session, sealed)
        with story.chapter("Evaluate", "the evaluator scores the adapter against production, then gates it"):
            evaluated = await evaluation(session, trained)
        with story.chapter("Canary", "the adapter takes half of live traffic until the monitor judges it"):
            await canary_to_promotion(session, evaluated)
        with story.chapter("Promote", "the promoted adapter answers the questions kept aside"):
            await better_answers(session, unseen, before, evaluated)
        with story.chapter(
            "Drift",
            "the monitor compares the last minute of traffic with its reference window, from the last promotion on",
        ):
            await drift_alert(session)
        with story.chapter("Cost", f"{PREMIUM} costs $100 per 1k tokens, under an enforced budget"):
            await cost_alert(session)
    return evaluated


def _save_report(settings: PlatformSettings, evaluated: EvalCompletedV1, work_dir: Path) -> Path:
    store = open_artifact_store(settings)
    if evaluated.report is not None:
        markdown = work_dir / "evaluation-report.md"
        markdown.write_bytes(store.get_bytes(evaluated.report))
    if evaluated.report_chart is None:
        raise RuntimeError(f"evaluation {evaluated.eval_id} has no chart")
    return store.fetch_file(evaluated.report_chart, work_dir / "evaluation-report.png")
