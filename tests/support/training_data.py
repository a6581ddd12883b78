"""A small, learnable fine-tuning task for the tiny test model, and sealed dataset versions of it.

Every answer follows one house pattern ("Your ticket for order N is T-N. ..."), which the pre-trained
tiny model never produced: a LoRA fine-tune of a few dozen steps learns it, and the held-out questions
(other order numbers) show the gain.
"""

from __future__ import annotations

from llmops_common.demo.tickets import tickets
from llmops_common.events import ArtifactRef, DatasetSealedV1, TrainingCompletedV1
from llmops_common.storage.artifacts import ArtifactStore
from services.ingestion.datasets import Example, build_version


def ticket_examples(count: int, seed: int = 7) -> list[Example]:
    """`count` distinct prompt/completion examples of the ticket task (the demo's tickets, as examples)."""
    return [
        Example(
            record_id=f"ticket-{ticket.order}",
            source="feedback_collector:test",
            prompt=ticket.question,
            completion=ticket.answer,
            messages=None,
        )
        for ticket in tickets(count, seed)
    ]


def seal_examples(artifacts: ArtifactStore, examples: list[Example], *, tenant: str, name: str) -> DatasetSealedV1:
    """Writes the examples as a dataset version, as ingestion seals one, and returns its event."""
    version = build_version(examples)
    return DatasetSealedV1(
        name=name,
        version=version.version,
        tenant=tenant,
        artifact=artifacts.put_bytes(version.parquet),
        rows=version.rows,
        train_rows=version.train_rows,
        eval_rows=version.eval_rows,
        trigger="command",
        source_rows={"feedback_collector:test": version.rows},
    )


def succeeded_training(
    job_id: str, model_name: str, sealed: DatasetSealedV1, adapter: ArtifactRef
) -> TrainingCompletedV1:
    """A fine-tune of `sealed` that succeeded with `adapter`, as the trainer publishes it."""
    return TrainingCompletedV1(
        job_id=job_id,
        tenant=sealed.tenant,
        model_name=model_name,
        base_model="tiny",
        status="succeeded",
        adapter_version=f"lora-{job_id}",
        adapter=adapter,
        duration_seconds=1.0,
        dataset=sealed.name,
        dataset_version=sealed.version,
        dataset_artifact=sealed.artifact,
    )
