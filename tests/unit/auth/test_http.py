"""The FastAPI dependency: a route that takes `CurrentPrincipal` answers 401 in the platform's shape without a key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from llmops_common.auth.api_keys import issue_key
from llmops_common.auth.http import CurrentPrincipal
from llmops_common.auth.keyring import KeyRing
from llmops_common.events import ApiKeyRevokedV1
from llmops_common.service.http_errors import install_error_handlers


@dataclass(frozen=True)
class Deps:
    keyring: KeyRing


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing()


@pytest.fixture
def client(keyring: KeyRing) -> Iterator[TestClient]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Deps]]:
        yield {"deps": Deps(keyring)}

    app = FastAPI(lifespan=lifespan)
    install_error_handlers(app)

    @app.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, object]:
        return {"tenant": principal.tenant, "admin": principal.is_admin}

    with TestClient(app) as test_client:
        yield test_client


def test_a_valid_key_reaches_the_route_as_its_principal(client: TestClient, keyring: KeyRing) -> None:
    token, event = issue_key("acme", roles=["admin"], issued_by="ops")
    keyring.apply(event)

    response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})

    assert (response.status_code, response.json()) == (200, {"tenant": "acme", "admin": True})


def test_no_key_is_a_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/whoami")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {
            "code": "unauthorized",
            "message": "missing API key: send Authorization: Bearer <key>",
            "detail": None,
        }
    }


def test_a_key_revoked_while_the_service_runs_is_refused_on_the_next_request(
    client: TestClient, keyring: KeyRing
) -> None:
    token, event = issue_key("acme", issued_by="ops")
    keyring.apply(event)
    assert client.get("/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    keyring.apply(ApiKeyRevokedV1(key_id=event.key_id, tenant="acme", revoked_by="ops", revoked_at=datetime.now(UTC)))
    response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})

    assert (response.status_code, response.json()["error"]["message"]) == (401, "unknown or revoked API key")
    assert response.headers["WWW-Authenticate"] == "Bearer"
