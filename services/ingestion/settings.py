"""Settings of the ingestion service, read from the environment with the `LLMOPS_` prefix."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from llmops_common.settings import ServiceSettings


class Settings(ServiceSettings):
    """The ingestion service's settings: the platform's shared ones and its own."""

    service_name: ClassVar[str] = "ingestion"

    ingest_max_batch_records: int = Field(default=1000, ge=1)
    """The most records one `POST /v1/ingest` may carry (413 above)."""
    ingest_max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    """The largest `POST /v1/ingest` body (413 above)."""
    ingest_dedup_index_records: int = Field(default=200_000, ge=1000)
    """Records the in-memory dedup index keeps (about 2.4 KB each); a duplicate of an older one gets through."""
