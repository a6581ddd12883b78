"""API keys: a token opens the key ring only while its key is issued and not revoked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmops_common.auth.api_keys import issue_key, parse_token
from llmops_common.auth.keyring import KeyRing, Principal
from llmops_common.errors import ForbiddenError, UnauthorizedError
from llmops_common.events import ApiKeyRevokedV1


def revoked(key_id: str) -> ApiKeyRevokedV1:
    return ApiKeyRevokedV1(key_id=key_id, tenant="acme", revoked_by="ops", revoked_at=datetime.now(UTC))


def test_an_issued_key_authenticates_as_its_tenant_with_its_roles_and_limits() -> None:
    token, event = issue_key("acme", roles=["admin"], models=["support"], rpm=60, issued_by="ops")
    keyring = KeyRing()
    keyring.apply(event)

    principal = keyring.authenticate(f"Bearer {token}")

    assert (principal.key_id, principal.tenant, principal.rpm) == (event.key_id, "acme", 60)
    assert principal.is_admin
    assert principal.may_call("support")
    assert not principal.may_call("other")


def test_the_event_carries_a_salted_hash_and_never_the_secret() -> None:
    token, event = issue_key("acme", issued_by="ops")
    _, secret = parse_token(token)
    _, again = issue_key("acme", issued_by="ops")

    assert secret not in event.model_dump_json()
    assert event.salt != again.salt


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing API key"),
        ("Basic abc", "must be: Bearer"),
        ("Bearer nonsense", "malformed API key"),
        ("Bearer llmops_000000000000_secret", "unknown or revoked API key"),
    ],
)
def test_bad_headers_are_unauthorized(header: str | None, message: str) -> None:
    with pytest.raises(UnauthorizedError, match=message):
        KeyRing().authenticate(header)


def test_a_wrong_secret_and_a_revoked_key_look_alike() -> None:
    token, event = issue_key("acme", issued_by="ops")
    keyring = KeyRing()
    keyring.apply(event)
    with pytest.raises(UnauthorizedError, match="unknown or revoked"):
        keyring.authenticate(f"Bearer {token[:-2]}xx")

    keyring.apply(revoked(event.key_id))
    keyring.apply(event)  # a replayed issue after the revocation does not bring the key back

    with pytest.raises(UnauthorizedError, match="unknown or revoked"):
        keyring.authenticate(f"Bearer {token}")


def test_a_key_without_models_may_call_every_model() -> None:
    token, event = issue_key("acme", issued_by="ops")
    keyring = KeyRing()
    keyring.apply(event)

    assert keyring.authenticate(f"bearer {token}").may_call("anything")


def test_unknown_wrong_and_revoked_keys_get_the_same_answer() -> None:
    token, event = issue_key("acme", issued_by="ops")
    other_token, other = issue_key("acme", issued_by="ops")
    keyring = KeyRing()
    keyring.apply(event)
    keyring.apply(other)
    keyring.apply(revoked(other.key_id))
    key_id, _ = parse_token(token)

    messages = set()
    for header in (f"Bearer {token}x", f"Bearer llmops_{'f' * 12}_secret", f"Bearer {other_token}"):
        with pytest.raises(UnauthorizedError) as caught:
            keyring.authenticate(header)
        messages.add(caught.value.message)

    assert messages == {"unknown or revoked API key"}
    assert keyring.authenticate(f"Bearer {token}").key_id == key_id  # revoking one key leaves the others be


def test_a_revocation_read_before_its_issue_still_wins() -> None:
    token, event = issue_key("acme", issued_by="ops")
    keyring = KeyRing()

    keyring.apply(revoked(event.key_id))
    keyring.apply(event)

    with pytest.raises(UnauthorizedError, match="unknown or revoked"):
        keyring.authenticate(f"Bearer {token}")


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer   ", "Token abc"])
def test_an_empty_or_foreign_scheme_is_unauthorized(header: str) -> None:
    with pytest.raises(UnauthorizedError, match=r"missing API key|must be: Bearer"):
        KeyRing().authenticate(header)


def test_the_principal_carries_the_keys_limits_and_models() -> None:
    token, event = issue_key("acme", models=["a", "b"], rpm=10, tpm=2000, max_input_tokens=512, issued_by="ops")
    keyring = KeyRing()
    keyring.apply(event)

    principal = keyring.authenticate(f"Bearer {token}")

    assert principal == Principal(
        key_id=event.key_id,
        tenant="acme",
        roles=frozenset(),
        models=frozenset({"a", "b"}),
        rpm=10,
        tpm=2000,
        max_input_tokens=512,
    )
    assert not principal.is_admin
    assert (principal.may_call("a"), principal.may_call("c")) == (True, False)


def test_roles_grant_scopes_and_only_an_operator_sees_other_tenants() -> None:
    ring = KeyRing()
    principals = {}
    for roles in ([], ["data"], ["admin"], ["operator"]):
        token, event = issue_key("acme", roles=roles, issued_by="ops")
        ring.apply(event)
        principals[",".join(roles) or "none"] = ring.authenticate(f"Bearer {token}")

    assert principals["none"].scopes == {"inference"}
    assert principals["data"].scopes == {"data"}
    assert principals["admin"].scopes == {"inference", "data", "prompts", "admin"}
    assert principals["operator"].scopes == {"inference", "data", "prompts", "admin", "operator"}
    assert [p.sees_tenant("other") for p in principals.values()] == [False, False, False, True]
    with pytest.raises(ForbiddenError, match="lacks the 'data' scope"):
        principals["none"].require("data")


def test_an_unknown_role_is_refused_when_the_key_is_issued() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        issue_key("acme", roles=["root"], issued_by="ops")
