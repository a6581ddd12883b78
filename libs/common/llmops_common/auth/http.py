"""The FastAPI side of API keys: dependencies that name the caller (401 without a key, 403 without a scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from .keyring import KeyRing, Principal
from .scopes import ADMIN, DATA, INFERENCE, OPERATOR, PROMPTS

GUARD_PRINCIPAL = "principal"
"""Where `service.body_guard.BodyGuard` leaves the principal it authenticated in the request's state."""


def authenticated(request: Request) -> Principal:
    """The caller's principal, from its bearer token and the service's key ring (`deps.keyring`).

    Behind the body guard the key was already checked from the request's head; that principal is reused.
    """
    guarded: Principal | None = getattr(request.state, GUARD_PRINCIPAL, None)
    if guarded is not None:
        return guarded
    keyring: KeyRing = request.state.deps.keyring
    return keyring.authenticate(request.headers.get("authorization"))


def requires(scope: str) -> Callable[[Request], Principal]:
    """A dependency that authenticates the caller and refuses a key without `scope` (403)."""

    def scoped(request: Request) -> Principal:
        principal = authenticated(request)
        principal.require(scope)
        return principal

    return scoped


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]
"""A route parameter of this type requires a valid API key, whatever its scopes."""
InferenceKey = Annotated[Principal, Depends(requires(INFERENCE))]
DataKey = Annotated[Principal, Depends(requires(DATA))]
PromptsKey = Annotated[Principal, Depends(requires(PROMPTS))]
AdminKey = Annotated[Principal, Depends(requires(ADMIN))]
OperatorKey = Annotated[Principal, Depends(requires(OPERATOR))]
