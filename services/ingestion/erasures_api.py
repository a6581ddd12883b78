"""`POST /v1/erasures`: a right-to-erasure request for a document or for a data subject."""

from __future__ import annotations

from fastapi import APIRouter, Request

from llmops_common.auth.http import DataKey
from llmops_common.events import ErasureCompletedV1

from .erasure import ErasureRequest
from .schemas import ErasureIn
from .store import SubjectSelector

router = APIRouter(prefix="/v1", tags=["erasure"])


@router.post("/erasures")
async def erase(body: ErasureIn, request: Request, principal: DataKey) -> ErasureCompletedV1:
    """Erases the tenant's records that the request selects; answers with the audit record."""
    subject = None if body.key is None or body.value is None else SubjectSelector(body.key, body.value)
    erasure = ErasureRequest(principal.tenant, principal.key_id, body.reason, doc_id=body.doc_id, subject=subject)
    audit: ErasureCompletedV1 = await request.state.deps.eraser.erase(erasure)
    return audit
