"""The collector's HTTP routes: thin, over `FeedbackCollector`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from llmops_common.auth.http import CurrentPrincipal
from llmops_common.service.body_cap import body_cap

from .schemas import FeedbackBatchIn, FeedbackBatchOut, FeedbackIn, FeedbackOut
from .service import FeedbackCollector

router = APIRouter(
    prefix="/v1/feedback", tags=["feedback"], dependencies=[Depends(body_cap("feedback_max_body_bytes"))]
)


def collector_of(request: Request) -> FeedbackCollector:
    """The collector opened by the app's lifespan."""
    collector: FeedbackCollector = request.state.deps.collector
    return collector


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def submit(request: Request, body: FeedbackIn, principal: CurrentPrincipal) -> FeedbackOut:
    """Accepts one feedback of the caller's tenant."""
    return await collector_of(request).submit(principal.tenant, body)


@router.post("/batch")
async def submit_batch(request: Request, body: FeedbackBatchIn, principal: CurrentPrincipal) -> FeedbackBatchOut:
    """Accepts many feedbacks; each item carries its own status."""
    return FeedbackBatchOut(results=await collector_of(request).submit_batch(principal.tenant, body.items))
