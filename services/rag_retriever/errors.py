"""The retriever's errors, placed in the platform's one hierarchy."""

from __future__ import annotations

from llmops_common.errors import NotFoundError, PermanentError
from llmops_common.events.retrieval import COLLECTION_NOT_FOUND


class TenantRequiredError(PermanentError):
    """A read or write came without a valid tenant; retrieval fails closed rather than search unscoped."""

    status_code = 400
    code = "tenant_required"


class RetrieverConfigError(PermanentError):
    """A retriever setting no model, chunker or store can work with: a missing model, sizes that do not fit."""

    status_code = 500
    code = "retriever_misconfigured"


class CollectionNotFoundError(NotFoundError):
    """A search named a collection in which the tenant has no chunk: answered as an error, not as no context."""

    code = COLLECTION_NOT_FOUND
