"""Picks and starts the engine: vLLM where it imports, else the portable transformers engine."""

from __future__ import annotations

import logging
from typing import Literal

from .base import InferenceEngine
from .vllm_engine import vllm_available

log = logging.getLogger(__name__)

EngineKind = Literal["auto", "vllm", "transformers"]


async def start_engine(kind: EngineKind, base_model: str) -> InferenceEngine:
    """The engine `kind` names over `base_model`; "auto" prefers vLLM, the primary engine."""
    if kind == "vllm" or (kind == "auto" and vllm_available()):
        from .vllm_engine import VllmEngine

        return await VllmEngine.start(base_model)
    if kind == "auto":
        log.info("vllm does not import here; serving with the transformers engine")
    from .transformers_engine import TransformersEngine

    return await TransformersEngine.start(base_model)
