"""The retriever's errors, placed in the platform's one hierarchy."""

from __future__ import annotations

from llmops_common.errors import PermanentError


class TenantRequiredError(PermanentError):
    """A read or write came without a valid tenant; retrieval fails closed rather than search unscoped."""

    status_code = 400
    code = "tenant_required"


class RetrieverConfigError(PermanentError):
    """A retriever setting no model, chunker or store can work with: a missing model, sizes that do not fit."""

    status_code = 500
    code = "retriever_misconfigured"
