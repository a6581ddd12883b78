"""`llmops keys create|revoke` against the real broker: a running replica takes a key up, then drops it."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from llmops_common.auth.keyring import KeyRing
from llmops_common.cli.keys import keys_app
from llmops_common.errors import UnauthorizedError
from llmops_common.kafka.replica import TopicReplica
from llmops_common.settings import PlatformSettings
from llmops_common.topics import AUTH_KEYS
from tests.support.topic_reader import eventually


def works(keyring: KeyRing, token: str) -> bool:
    try:
        keyring.authenticate(f"Bearer {token}")
    except UnauthorizedError:
        return False
    return True


async def test_a_created_key_works_at_once_and_a_revoked_one_stops(
    settings: PlatformSettings, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMOPS_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    runner = CliRunner()
    # The CLI runs its own event loop, so it gets a thread of its own.
    created = await asyncio.to_thread(
        runner.invoke, keys_app, ["create", "--tenant", f"t-{unique}", "--role", "admin", "--json"]
    )
    assert created.exit_code == 0, created.output
    key = json.loads(created.stdout)
    keyring = KeyRing()
    replica = TopicReplica(settings, AUTH_KEYS, lambda event, envelope: keyring.apply(event))  # type: ignore[arg-type]
    await replica.start()
    try:
        await replica.wait_caught_up(timeout=10)
        principal = keyring.authenticate(f"Bearer {key['key']}")
        assert (principal.tenant, principal.is_admin) == (f"t-{unique}", True)

        revoked = await asyncio.to_thread(runner.invoke, keys_app, ["revoke", key["key_id"], "--tenant", f"t-{unique}"])

        assert revoked.exit_code == 0, revoked.output
        await eventually(lambda: not works(keyring, key["key"]))
    finally:
        await replica.close()
