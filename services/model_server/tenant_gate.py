"""The hook where a tenant can be refused before any work: a tenant whose budget is spent, for one.

The model server asks its `TenantGate` on every request; the default lets every tenant through. A
replica of blocked tenants (from the monitor's budget events) plugs in by meeting this protocol.
"""

from __future__ import annotations

from typing import Protocol


class TenantGate(Protocol):
    """Says whether a tenant may call models now."""

    def blocked_reason(self, tenant: str) -> str | None:
        """Why `tenant` is refused (shown to the caller with 429), or None when it may go on."""
        ...


class OpenTenantGate:
    """Blocks no tenant."""

    def blocked_reason(self, tenant: str) -> str | None:
        """Always None."""
        return None
