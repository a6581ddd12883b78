"""`GET /v1/canaries`: the canaries in progress and what the monitor's checks found. Any valid API key."""

from __future__ import annotations

from fastapi import APIRouter, Request

from llmops_common.auth.http import CurrentPrincipal

from .canary_schemas import CanaryList, canary_view
from .canary_watch import CanaryWatch

router = APIRouter(prefix="/v1", tags=["canaries"])


@router.get("/canaries")
async def list_canaries(request: Request, principal: CurrentPrincipal) -> CanaryList:
    """Each canary in progress, by model name: its last verdict, each arm's figures and the reasons."""
    watch: CanaryWatch = request.state.deps.canaries
    return CanaryList(canaries=[canary_view(canary, progress) for canary, progress in watch.status()])
