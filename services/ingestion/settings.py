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
    ingest_max_concurrent_requests: int = Field(default=8, ge=1)
    """`POST /v1/ingest` requests handled at once; one more is refused with 429 and `Retry-After` before its
    body is read, so that a burst holds at most this many bodies in memory."""
    ingest_dedup_index_records: int = Field(default=200_000, ge=1000)
    """Records the in-memory dedup index keeps (about 2.4 KB each); a duplicate of an older one gets through."""
    ingest_seal_max_pending_examples: int | None = Field(default=None, ge=1)
    """Seal a dataset on its own once this many new examples wait; None (the default) turns the rule off."""
    ingest_seal_max_age_seconds: float | None = Field(default=None, gt=0)
    """Seal a dataset on its own once its oldest unsealed change is this old; None turns the rule off."""
    ingest_seal_check_seconds: float = Field(default=30.0, gt=0)
    """How often the seal policy looks at the datasets."""
    ingest_profile_tokenizer: str = "words"
    """What profiles count tokens with: `words` (offline, built in) or the path of a `tokenizer.json`."""
    ingest_collections_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long `GET /v1/collections` waits for the retriever, which holds the index (504 after)."""
