"""The collector's HTTP routes: thin, over `FeedbackCollector`."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from llmops_common.auth.http import InferenceKey

from .schemas import FeedbackBatchIn, FeedbackBatchOut, FeedbackIn, FeedbackOut
from .service import FeedbackCollector

# The body cap and the key check before the body is read: `service.body_guard`, wired in `app.py`.
router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


def collector_of(request: Request) -> FeedbackCollector:
    """The collector opened by the app's lifespan."""
    collector: FeedbackCollector = request.state.deps.collector
    return collector


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def submit(request: Request, body: FeedbackIn, principal: InferenceKey) -> FeedbackOut:
    """Accepts one feedback of the caller's tenant."""
    return await collector_of(request).submit(principal, body)


@router.post("/batch")
async def submit_batch(request: Request, body: FeedbackBatchIn, principal: InferenceKey) -> FeedbackBatchOut:
    """Accepts many feedbacks; each item carries its own status."""
    return FeedbackBatchOut(results=await collector_of(request).submit_batch(principal, body.items))
