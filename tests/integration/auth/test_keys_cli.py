"""`llmops keys create|revoke` on the real broker: the events on `llmops.auth.keys` open a key ring, then shut it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from typer.testing import CliRunner

from llmops_common.auth.keyring import KeyRing
from llmops_common.cli.keys import keys_app
from llmops_common.errors import UnauthorizedError
from llmops_common.events import ApiKeyIssuedV1, ApiKeyRevokedV1
from llmops_common.kafka.envelope import decode_event, decode_headers, parse_envelope
from llmops_common.topics import AUTH_KEYS
from tests.support.topic_reader import read_topic

AuthEvent = ApiKeyIssuedV1 | ApiKeyRevokedV1


async def events_of_key(bootstrap: str, key_id: str, count: int, timeout: float = 15.0) -> list[AuthEvent]:
    """The first `count` events of `key_id` on the keys topic, which other tests' keys share."""
    accepted = {model.event_type: model for model in AUTH_KEYS.events}
    deadline = time.monotonic() + timeout
    while True:
        # The topic holds every test's keys, so read it whole (a short while) and keep this key's records.
        records = await read_topic(bootstrap, AUTH_KEYS.name, count=1_000_000, timeout=1.0)
        mine = [record for record in records if record.key == key_id.encode()]
        if len(mine) >= count or time.monotonic() > deadline:
            break
    events = [decode_event(parse_envelope(decode_headers(r.headers)), r.value, accepted) for r in mine]
    assert all(isinstance(event, AuthEvent) for event in events)
    return events  # type: ignore[return-value]


async def invoke(*args: str) -> tuple[int, str, str]:
    """Runs the `keys` sub-app; it runs an event loop of its own, so it gets a thread of its own."""
    result = await asyncio.to_thread(CliRunner().invoke, keys_app, list(args))
    return result.exit_code, result.stdout, result.stderr


async def test_created_key_authenticates_from_the_topic_and_revoke_shuts_it(
    kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", kafka_bootstrap)
    tenant = f"t-{unique}"

    code, out, err = await invoke(
        *("create", "--tenant", tenant, "--role", "admin", "--rpm", "60", "--json"),
        *("--models", "support", "--model", "chat"),  # both spellings, repeated
    )

    assert code == 0, out + err
    created = json.loads(out)
    assert (created["tenant"], created["roles"], created["models"]) == (tenant, ["admin"], ["chat", "support"])
    token, key_id = created["key"], created["key_id"]
    [issued] = await events_of_key(kafka_bootstrap, key_id, 1)
    assert isinstance(issued, ApiKeyIssuedV1)
    assert (issued.tenant, issued.roles, issued.models, issued.rpm) == (tenant, ["admin"], ["chat", "support"], 60)
    assert token.split("_", 2)[2] not in issued.model_dump_json()  # only the salted hash travels
    keyring = KeyRing()
    keyring.apply(issued)
    principal = keyring.authenticate(f"Bearer {token}")
    assert (principal.key_id, principal.tenant, principal.is_admin) == (key_id, tenant, True)
    assert (principal.may_call("chat"), principal.may_call("other")) == (True, False)

    code, out, err = await invoke("revoke", key_id, "--tenant", tenant)

    assert (code, out) == (0, f"revoked {key_id}\n"), err
    events = await events_of_key(kafka_bootstrap, key_id, 2)
    assert [type(event) for event in events] == [ApiKeyIssuedV1, ApiKeyRevokedV1]
    assert (events[1].key_id, events[1].tenant) == (key_id, tenant)
    for event in events:
        keyring.apply(event)
    with pytest.raises(UnauthorizedError, match="unknown or revoked API key"):
        keyring.authenticate(f"Bearer {token}")


async def test_create_prints_the_key_once_with_a_warning(
    kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", kafka_bootstrap)

    code, out, err = await invoke("create", "--tenant", f"t-{unique}")

    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("key:     llmops_")
    key_id = lines[0].split("_")[1]
    # No --role: an app's key, with its one role written down.
    assert lines[1] == f"id:      {key_id}   tenant: t-{unique}   roles: inference   models: all"
    assert "cannot be shown again" in err
    [issued] = await events_of_key(kafka_bootstrap, key_id, 1)
    assert isinstance(issued, ApiKeyIssuedV1)
    assert issued.roles == ["inference"]


async def test_an_unknown_role_is_refused_before_anything_is_published() -> None:
    code, out, err = await invoke("create", "--tenant", "acme", "--role", "data", "--role", "root")

    assert code == 2
    assert "Invalid value for --role: unknown role root; the roles are inference, data, prompts, admin, operator" in (
        " ".join(err.replace("│", " ").split())
    )
    assert "key:" not in out
