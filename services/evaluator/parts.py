"""What every kind of evaluation works with: the engine both arms answer on, the record of evaluations,
the dataset versions, production's versions, the artifact store and the publisher."""

from __future__ import annotations

from dataclasses import dataclass

from llmops_common.dataset_index import DatasetVersionIndex
from llmops_common.engines.base import InferenceEngine
from llmops_common.kafka.publisher import EventPublisher
from llmops_common.storage.artifacts import ArtifactStore

from .production import ProductionTable
from .settings import Settings
from .store import EvalStore


@dataclass(frozen=True)
class EvaluationParts:
    """Shared by the adapter evaluations and the prompt gate; one evaluation uses the engine at a time."""

    settings: Settings
    engine: InferenceEngine
    store: EvalStore
    datasets: DatasetVersionIndex
    production: ProductionTable
    artifacts: ArtifactStore
    publisher: EventPublisher
