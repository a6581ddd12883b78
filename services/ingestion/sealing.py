"""Sealing: the examples a dataset holds now, written as an immutable version with its profile and
lineage, and announced on `llmops.data.datasets`.

The version is the content hash of the examples, so sealing unchanged content finds the version it
sealed before and publishes nothing new. The event is kept before it is published and marked once it
is on Kafka: a seal cut short by a crash publishes it on the next try.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from llmops_common.errors import NotFoundError, PermanentError
from llmops_common.events import DatasetSealedV1
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.storage.artifacts import ArtifactStore

from .dataset_ledger import DatasetLedger
from .datasets import EVAL_PERCENT, Example, build_version, version_of
from .lineage import lineage_parquet, source_rows
from .profile import build_profile
from .store import IngestionStore
from .token_counting import TokenCounter

Trigger = Literal["command", "size", "age"]


class EmptyDatasetError(PermanentError):
    """The dataset exists but holds no examples (all were rejected, duplicates or erased)."""

    status_code = 409
    code = "empty_dataset"


@dataclass(frozen=True)
class SealResult:
    """The version's event, and whether this seal made the version (False: it was sealed before)."""

    event: DatasetSealedV1
    created: bool


class DatasetSealer:
    """Seals datasets one at a time; reads the store on the event loop, writes artifacts off it."""

    def __init__(
        self,
        store: IngestionStore,
        artifacts: ArtifactStore,
        publisher: EventPublisher,
        tokens: TokenCounter,
        eval_percent: int = EVAL_PERCENT,
        lock: asyncio.Lock | None = None,
    ) -> None:
        self._store = store
        self._ledger: DatasetLedger = store.ledger
        self._artifacts = artifacts
        self._publisher = publisher
        self._tokens = tokens
        self._eval_percent = eval_percent
        self.lock = lock or asyncio.Lock()
        """Held while a version is built and published; erasures take it too, so that no version
        that an erasure has already left behind can be published after it."""

    async def seal(self, tenant: str, dataset: str, trigger: Trigger = "command") -> SealResult:
        """Seals the dataset's examples as they are now."""
        async with self.lock:
            if not self._ledger.exists(tenant, dataset):
                raise NotFoundError(f"no dataset {dataset!r}", detail={"dataset": dataset})
            pending = self._ledger.pending(tenant, dataset)
            hashes = self._store.example_hashes(tenant, dataset)
            if not hashes:
                raise EmptyDatasetError(f"dataset {dataset!r} holds no examples to seal", detail={"dataset": dataset})
            earlier = self._ledger.sealed(tenant, dataset, version_of(hashes))
            if earlier is not None and earlier.published:
                self._ledger.settle(pending)
                return SealResult(earlier.event, created=False)
            event = earlier.event if earlier is not None else await self._build(tenant, dataset, trigger)
            self._ledger.record_seal(event)
            await self._publisher.publish(event)
            self._ledger.mark_published(event)
            self._ledger.settle(pending)
            return SealResult(event, created=True)

    async def _build(self, tenant: str, dataset: str, trigger: Trigger) -> DatasetSealedV1:
        rows = list(self._store.examples(tenant, dataset))
        counters = self._ledger.counters(tenant, dataset)
        return await asyncio.to_thread(self._write_version, tenant, dataset, trigger, rows, counters)

    def _write_version(
        self,
        tenant: str,
        dataset: str,
        trigger: Trigger,
        rows: list[tuple[Example, str]],
        counters: dict[str, int],
    ) -> DatasetSealedV1:
        examples = [example for example, _ in rows]
        version = build_version(examples, self._eval_percent)
        profile = build_profile(
            examples, counters, self._tokens, train_rows=version.train_rows, eval_rows=version.eval_rows
        )
        return DatasetSealedV1(
            name=dataset,
            version=version.version,
            tenant=tenant,
            artifact=self._artifacts.put_bytes(version.parquet),
            rows=version.rows,
            train_rows=version.train_rows,
            eval_rows=version.eval_rows,
            profile=self._artifacts.put_bytes(profile.model_dump_json(indent=2).encode()),
            eda_profile=profile,
            lineage=self._artifacts.put_bytes(lineage_parquet(rows)),
            source_rows=source_rows(examples),
            trigger=trigger,
        )
