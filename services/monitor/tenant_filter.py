"""Whose rows a read of the monitor's API returns: the caller's tenant's, or any tenant's for an operator.

The queries bind the tenant as `{tenant:Nullable(String)}` and keep `isNull(...) OR tenant = ...`: a bound
value, never pasted into the text, and None (an operator's) reads every tenant.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from llmops_common.auth.keyring import Principal
from llmops_common.errors import ForbiddenError

TenantQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="An operator's key: only this tenant's figures (every tenant's without). Another key: its own.",
    ),
]


def readable_tenant(principal: Principal, asked: str | None) -> str | None:
    """The tenant whose rows the caller reads; None means every tenant's, which only an operator reads.

    A tenant admin that asks for another tenant gets `ForbiddenError`, not an empty answer that would
    look like that tenant had no traffic.
    """
    if principal.is_operator:
        return asked
    if asked is not None and asked != principal.tenant:
        raise ForbiddenError(
            f"this API key reads tenant {principal.tenant}'s figures only", detail={"tenant": principal.tenant}
        )
    return principal.tenant
