"""Embedding drift of prompts: a sample of each window's captured (redacted) prompts, embedded with MiniLM;
the cosine distance between the two centroids and MMD with a permutation p-value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from llmops_common.storage.telemetry import TelemetryStore

from ..detection_targets import ModelTarget
from ..detector_settings import EmbeddingDriftSettings
from ..measurements import Limit, Measurement, Query, Window
from ..statistics.embedding_drift import centroid_cosine_distance, mmd_permutation_test
from .window_cache import WindowCache

PROMPT_SAMPLE_SQL = """
SELECT prompt_text AS text
FROM inference_completed
WHERE model_name = {model:String}
    AND event_time >= {start:DateTime64(3)} AND event_time < {end:DateTime64(3)}
    AND text_capture != 'none' AND isNotNull(prompt_text) AND prompt_text != ''
ORDER BY cityHash64(event_id)
LIMIT {limit:UInt32}
"""
"""A sample by hash of the event id: the same rows for the same window, whichever run reads it."""


class TextEmbedder(Protocol):
    """What the detector needs of an embedding model (llmops_common.embedding's embedder fits)."""

    def embed_documents(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit vector per text."""
        ...


class EmbeddingDriftDetector:
    """Centroid cosine distance and MMD between reference and current prompt embeddings."""

    name = "embedding_drift"

    def __init__(self, settings: EmbeddingDriftSettings, embedder: TextEmbedder) -> None:
        self._settings = settings
        self._embedder = embedder
        self._references: WindowCache[npt.NDArray[np.float32]] = WindowCache(size=16)

    def _embedded_sample(self, store: TelemetryStore, model: str, window: Window) -> npt.NDArray[np.float32]:
        parameters = {"model": model, "start": window.start, "end": window.end, "limit": self._settings.sample_size}
        texts = [str(row["text"]) for row in store.query(PROMPT_SAMPLE_SQL, parameters)]
        return self._embedder.embed_documents(texts) if texts else np.zeros((0, 0), dtype=np.float32)

    def measure(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        """Centroid distance and MMD p-value, when both windows have enough captured prompts."""
        reference_window = target.reference
        if reference_window is None:
            return []
        reference = self._references.get_or_compute(
            (target.model_name, reference_window),
            lambda: self._embedded_sample(store, target.model_name, reference_window),
        )
        if len(reference) < self._settings.min_samples:
            return []
        current = self._embedded_sample(store, target.model_name, target.current)
        if len(current) < self._settings.min_samples:
            return []
        settings = self._settings
        distance = centroid_cosine_distance(reference, current)
        mmd = mmd_permutation_test(reference, current, permutations=settings.permutations)
        query = Query(
            PROMPT_SAMPLE_SQL,
            {
                "model": target.model_name,
                "start": target.current.start,
                "end": target.current.end,
                "limit": settings.sample_size,
            },
        )
        return [
            target.measurement(
                self.name,
                "centroid_cosine",
                distance,
                query=query,
                reference=reference_window,
                limit=Limit(settings.cosine_distance, settings.cosine_clear, critical=2 * settings.cosine_distance),
                message=f"prompt embedding centroids are {distance:.3f} apart (cosine distance) from the reference",
            ),
            target.measurement(
                self.name,
                "mmd_p_value",
                mmd.p_value,
                query=query,
                reference=reference_window,
                limit=Limit(settings.mmd_p_value, settings.mmd_clear_p_value, higher_is_worse=False),
                message=f"prompt embeddings differ from the reference: MMD² {mmd.mmd2:.4f}, p={mmd.p_value:.3g}",
            ),
        ]
