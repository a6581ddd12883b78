"""The tenant scope: built only from a valid tenant, so an unscoped query cannot be expressed."""

from __future__ import annotations

import pytest

from services.rag_retriever.errors import TenantRequiredError
from services.rag_retriever.tenancy import TenantScope


@pytest.mark.parametrize("tenant", ["acme", "team-7", "a.b_c", "x" * 128])
def test_a_valid_tenant_makes_a_scope(tenant: str) -> None:
    assert TenantScope.of(tenant).tenant == tenant


@pytest.mark.parametrize("tenant", [None, "", " ", "acme corp", "acme/../globex", "x" * 129, "ac\u00e9me"])
def test_a_missing_or_malformed_tenant_is_refused(tenant: str | None) -> None:
    with pytest.raises(TenantRequiredError) as raised:
        TenantScope.of(tenant)

    assert raised.value.status_code == 400
    assert raised.value.code == "tenant_required"


def test_the_constructor_checks_too() -> None:
    with pytest.raises(TenantRequiredError):
        TenantScope("")
