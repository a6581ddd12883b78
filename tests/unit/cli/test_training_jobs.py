"""A fine-tune's state folded from its events, and how the console shows it."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from llmops_common.cli.training_jobs import TrainingJob
from llmops_common.cli.training_render import job_renderable
from llmops_common.events import (
    TrainingCancelRequestedV1,
    TrainingCompletedV1,
    TrainingProgressV1,
    TrainingRequestedV1,
)

AT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def text_of(job: TrainingJob) -> str:
    console = Console(width=200, record=True, file=None, force_terminal=False)
    with console.capture() as captured:
        console.print(job_renderable(job))
    return captured.get()


def request(job_id: str = "j1") -> TrainingRequestedV1:
    return TrainingRequestedV1(
        job_id=job_id, tenant="acme", model_name="bot", base_model="tiny", dataset="faq", dataset_version="ab" * 20
    )


def progress(step: int, job_id: str = "j1") -> TrainingProgressV1:
    return TrainingProgressV1(
        job_id=job_id,
        tenant="acme",
        model_name="bot",
        step=step,
        total_steps=200,
        loss=1.23456,
        learning_rate=0.0002,
        tokens_per_second=1234.4,
        eta_seconds=125,
        at=AT,
    )


def completed(status: str, job_id: str = "j1") -> TrainingCompletedV1:
    return TrainingCompletedV1.model_validate(
        {
            "job_id": job_id,
            "tenant": "acme",
            "model_name": "bot",
            "base_model": "tiny",
            "status": status,
            "adapter_version": "v3" if status == "succeeded" else None,
            "metrics": {"eval_loss": 0.81234, "train_loss": 0.9} if status == "succeeded" else {},
            "error": "out of memory" if status == "failed" else None,
            "duration_seconds": 90.4,
            "dataset": "faq",
            "dataset_version": "ab" * 20,
            "steps": 200,
        }
    )


def test_other_jobs_events_change_nothing() -> None:
    job = TrainingJob("j1")
    assert not job.apply(progress(5, job_id="j2"))
    assert not job.known


def test_a_requested_job_waits_for_the_trainer() -> None:
    job = TrainingJob("j1")
    assert job.apply(request())
    assert job.state == "requested"
    assert text_of(job) == "j1: requested, waiting for the trainer (bot on faq@abababababab)\n"


def test_a_running_job_shows_a_progress_line_with_its_latest_figures() -> None:
    job = TrainingJob("j1")
    for event in (request(), progress(10), progress(50), TrainingCancelRequestedV1(job_id="j1", reason="stop")):
        job.apply(event)
    line = text_of(job)
    assert job.state == "running"
    assert line.startswith("j1 ")
    for fragment in ("50/200 steps", " 25% ", "loss 1.2346", "lr 2.00e-04", "1,234 tok/s", "ETA 0:02:05"):
        assert fragment in line
    assert line.rstrip().endswith("cancel requested: stop")


def test_a_completion_decides_the_state_even_when_progress_is_read_after_it() -> None:
    job = TrainingJob("j1")
    job.apply(completed("succeeded"))
    job.apply(progress(199))
    assert (job.state, job.view().step) == ("succeeded", 199)
    text = text_of(job)
    assert text.splitlines()[0] == "j1: succeeded in 0:01:30"
    assert "adapter  v3" in text
    assert "dataset  faq@abababababab" in text
    assert "metrics  eval_loss 0.8123, train_loss 0.9" in text


def test_a_failed_job_shows_its_error() -> None:
    job = TrainingJob("j1")
    job.apply(completed("failed"))
    assert text_of(job) == "j1: failed after 0:01:30: out of memory\n"


def test_the_view_has_every_field_and_takes_the_newest_of_each() -> None:
    job = TrainingJob("j1")
    for event in (request(), progress(50)):
        job.apply(event)
    assert job.view().model_dump(mode="json") == {
        "job_id": "j1",
        "state": "running",
        "tenant": "acme",
        "model_name": "bot",
        "base_model": "tiny",
        "dataset": "faq",
        "dataset_version": "ab" * 20,
        "step": 50,
        "total_steps": 200,
        "loss": 1.23456,
        "learning_rate": 0.0002,
        "tokens_per_second": 1234.4,
        "eta_seconds": 125.0,
        "progress_at": "2025-03-04T05:06:07Z",
        "cancel_reason": None,
        "adapter_version": None,
        "adapter_uri": None,
        "metrics": {},
        "error": None,
        "duration_seconds": None,
    }
