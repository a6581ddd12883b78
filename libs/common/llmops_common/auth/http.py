"""The FastAPI side of API keys: a dependency that names the caller, or answers 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .keyring import KeyRing, Principal


def authenticated(request: Request) -> Principal:
    """The caller's principal, from its bearer token and the service's key ring (`deps.keyring`)."""
    keyring: KeyRing = request.state.deps.keyring
    return keyring.authenticate(request.headers.get("authorization"))


CurrentPrincipal = Annotated[Principal, Depends(authenticated)]
"""A route parameter of this type requires a valid API key."""
