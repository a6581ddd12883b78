"""What an API key may do: its roles, and the scopes each role grants.

A key's roles are the words an operator types (`llmops keys create --role data`); scopes are what a route
asks for. `admin` holds every scope of its own tenant; `operator` is the platform's role, the only one
that sees every tenant. A key issued with no role (older keys too) is an app's key: `inference` only,
so a leaked app key can call models and send feedback but cannot seal, erase or rewrite anything.
"""

from __future__ import annotations

from collections.abc import Iterable

INFERENCE = "inference"
"""Call deployed models and send feedback on their answers."""
DATA = "data"
"""Ingest records and documents, seal datasets, erase data, manage knowledge bases."""
PROMPTS = "prompts"
"""Write and read prompts, and move their unprotected labels."""
ADMIN = "admin"
"""Everything within the key's tenant: protected prompt labels, ops SQL, alerts, reports, usage."""
OPERATOR = "operator"
"""The platform's operators: an admin of every tenant's telemetry, alerts and reports."""

ROLES: tuple[str, ...] = (INFERENCE, DATA, PROMPTS, ADMIN, OPERATOR)
DEFAULT_ROLES: tuple[str, ...] = (INFERENCE,)

_TENANT_SCOPES = frozenset({INFERENCE, DATA, PROMPTS})
_GRANTS: dict[str, frozenset[str]] = {
    INFERENCE: frozenset({INFERENCE}),
    DATA: frozenset({DATA}),
    PROMPTS: frozenset({PROMPTS}),
    ADMIN: _TENANT_SCOPES | {ADMIN},
    OPERATOR: _TENANT_SCOPES | {ADMIN, OPERATOR},
}


def unknown_roles(roles: Iterable[str]) -> list[str]:
    """The roles in `roles` that the platform does not know, sorted."""
    return sorted(set(roles) - set(ROLES))


def scopes_of(roles: Iterable[str]) -> frozenset[str]:
    """The scopes a key with `roles` holds; no known role at all means the default, `inference`."""
    granted = [_GRANTS[role] for role in roles if role in _GRANTS]
    return frozenset().union(*granted) if granted else _GRANTS[INFERENCE]
