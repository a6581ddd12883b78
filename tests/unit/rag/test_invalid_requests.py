"""A request that fails validation is answered with the reply type its requester awaits."""

from __future__ import annotations

from llmops_common.errors import InvalidEventError
from llmops_common.events import (
    CollectionsListedV1,
    CollectionsRequestedV1,
    RetrievalAnsweredV1,
    RetrievalRequestedV1,
)
from services.rag_retriever.handlers import invalid_request_answer


def test_each_request_type_gets_its_own_error_reply() -> None:
    error = InvalidEventError("tenant: field required")

    listing = invalid_request_answer(CollectionsRequestedV1.event_type, {"request_id": "c-1"}, error)
    retrieval = invalid_request_answer(RetrievalRequestedV1.event_type, {"request_id": "r-1"}, error)
    nameless = invalid_request_answer(RetrievalRequestedV1.event_type, {"request_id": ""}, error)

    assert listing == CollectionsListedV1(request_id="c-1", error="invalid collections request: tenant: field required")
    assert retrieval == RetrievalAnsweredV1(request_id="r-1", error="invalid retrieval request: tenant: field required")
    assert isinstance(nameless, RetrievalAnsweredV1)
    assert nameless.request_id == "unknown"
