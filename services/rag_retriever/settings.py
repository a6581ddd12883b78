"""Settings of the RAG retriever, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from llmops_common.settings import ServiceSettings


class Settings(ServiceSettings):
    """The RAG retriever's settings: the platform's shared ones, and later its own."""

    service_name: ClassVar[str] = "rag_retriever"
