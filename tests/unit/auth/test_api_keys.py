"""Tokens and their salted hashes: what `issue_key` hands out, what it publishes, what `parse_token` accepts."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime

import pytest

from llmops_common.auth.api_keys import issue_key, parse_token, secret_hash, secret_matches
from llmops_common.errors import UnauthorizedError
from llmops_common.events import EVENT_MODELS, ApiKeyIssuedV1, ApiKeyRevokedV1
from llmops_common.topics import AUTH_KEYS, topic_for_event


def test_a_token_names_its_key_id_and_carries_a_256_bit_secret() -> None:
    token, event = issue_key("acme", issued_by="ops")

    key_id, secret = parse_token(token)

    assert re.fullmatch(r"llmops_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", token)
    assert key_id == event.key_id
    assert len(secret) == 43  # token_urlsafe(32): 32 random bytes


def test_the_event_holds_an_hmac_sha256_of_the_secret_under_its_own_salt() -> None:
    token, event = issue_key("acme", issued_by="ops", description="support bot")
    _, secret = parse_token(token)

    expected = hmac.new(bytes.fromhex(event.salt), secret.encode(), hashlib.sha256).hexdigest()
    assert event.key_hash == expected == secret_hash(event.salt, secret)
    assert (event.tenant, event.issued_by, event.description) == ("acme", "ops", "support bot")
    assert event.issued_at.tzinfo is not None


def test_the_event_lists_roles_and_models_once_each_and_keeps_the_limits() -> None:
    _, event = issue_key(
        "acme",
        roles=["admin", "admin"],
        models=["support", "chat", "support"],
        rpm=60,
        tpm=10_000,
        max_input_tokens=4096,
        issued_by="ops",
    )

    assert (event.roles, event.models) == (["admin"], ["chat", "support"])
    assert (event.rpm, event.tpm, event.max_input_tokens) == (60, 10_000, 4096)


def test_two_keys_share_neither_id_nor_salt_nor_secret() -> None:
    first_token, first = issue_key("acme", issued_by="ops")
    second_token, second = issue_key("acme", issued_by="ops")

    assert first.key_id != second.key_id
    assert first.salt != second.salt
    assert parse_token(first_token)[1] != parse_token(second_token)[1]


def test_secret_matches_only_the_secret_it_was_made_from() -> None:
    token, event = issue_key("acme", issued_by="ops")
    _, secret = parse_token(token)

    assert secret_matches(event.salt, secret, event.key_hash)
    assert not secret_matches(event.salt, secret + "x", event.key_hash)
    assert not secret_matches("00" * 16, secret, event.key_hash)


def test_a_secret_may_contain_underscores() -> None:
    assert parse_token("llmops_0123456789ab_se_cr_et") == ("0123456789ab", "se_cr_et")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "llmops",
        "llmops_0123456789ab",
        "llmops_0123456789ab_",
        "other_0123456789ab_secret",
        "llmops_0123456789a_secret",
        "llmops_0123456789abc_secret",
        "llmops_0123456789AB_secret",
        "llmops_zzzzzzzzzzzz_secret",
    ],
)
def test_a_malformed_token_is_unauthorized(token: str) -> None:
    with pytest.raises(UnauthorizedError, match="malformed API key"):
        parse_token(token)


def test_both_events_are_keyed_by_key_id_on_the_compacted_keys_topic() -> None:
    _, issued = issue_key("acme", issued_by="ops")
    revoked = ApiKeyRevokedV1(key_id=issued.key_id, tenant="acme", revoked_by="ops", revoked_at=datetime.now(UTC))

    assert issued.event_key() == revoked.event_key() == issued.key_id
    assert EVENT_MODELS[ApiKeyIssuedV1.event_type] is ApiKeyIssuedV1
    assert EVENT_MODELS[ApiKeyRevokedV1.event_type] is ApiKeyRevokedV1
    assert topic_for_event(ApiKeyIssuedV1.event_type) is topic_for_event(ApiKeyRevokedV1.event_type) is AUTH_KEYS
    assert AUTH_KEYS.kafka_config() == {"cleanup.policy": "compact"}
