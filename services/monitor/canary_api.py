"""`GET /v1/canaries`: the canaries in progress and what the monitor's checks found. Any valid API key.

A key sees the canaries of the models its tenant may call: unowned ones, shared ones and its tenant's own
(an operator's key, every one). To every other tenant, an owned model does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from llmops_common.auth.http import CurrentPrincipal
from llmops_common.auth.keyring import Principal

from .canary_board import Canary
from .canary_schemas import CanaryList, canary_view
from .canary_watch import CanaryWatch

router = APIRouter(prefix="/v1", tags=["canaries"])


@router.get("/canaries")
async def list_canaries(request: Request, principal: CurrentPrincipal) -> CanaryList:
    """Each canary in progress, by model name: its last verdict, each arm's figures and the reasons."""
    watch: CanaryWatch = request.state.deps.canaries
    return CanaryList(
        canaries=[canary_view(canary, progress) for canary, progress in watch.status() if _visible(canary, principal)]
    )


def _visible(canary: Canary, principal: Principal) -> bool:
    owner = canary.event.owner_tenant
    return owner is None or canary.event.shared or principal.sees_tenant(owner)
