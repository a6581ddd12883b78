"""The tenant every read and delete is scoped to, validated once so that no query can run unscoped."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from llmops_common.events.base import TenantId

from .errors import TenantRequiredError

_TENANT_ID: TypeAdapter[str] = TypeAdapter(TenantId)


@dataclass(frozen=True, slots=True)
class TenantScope:
    """One tenant, checked against the same rule as the events' `tenant` field.

    The engines take a `TenantScope`, never a bare string, for every search, scroll, count and delete,
    and turn it into a must-match filter on the `tenant` payload field. A scope cannot be built from
    an empty, blank or malformed tenant, so a query without the tenant filter cannot be built at all.
    """

    tenant: str

    def __post_init__(self) -> None:
        try:
            _TENANT_ID.validate_python(self.tenant, strict=True)
        except ValidationError as error:
            raise TenantRequiredError(f"a valid tenant is required, got {self.tenant!r}") from error

    @classmethod
    def of(cls, tenant: str | None) -> TenantScope:
        """The scope of `tenant`; raises `TenantRequiredError` for None, empty or malformed."""
        if tenant is None:
            raise TenantRequiredError("a tenant is required: retrieval never runs across tenants")
        return cls(tenant)
