"""Request bodies: a caller without a valid key is refused before its body is read, and a body over the cap
is refused while it streams in, chunked or not, never read whole first.

Each service runs over real HTTP. The client sends a request's head and part of its body but never the
end: a server that answers did so without waiting for the whole body; one that waits never answers, and
the read times out.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from llmops_common.local_kafka import free_port
from llmops_common.settings import PlatformSettings, ServiceSettings
from services.feedback_collector.app import create_app as feedback_app
from services.feedback_collector.settings import Settings as FeedbackSettings
from services.ingestion.app import create_app as ingestion_app
from services.ingestion.settings import Settings as IngestionSettings
from services.prompt_registry.app import create_app as registry_app
from services.prompt_registry.settings import Settings as RegistrySettings
from tests.support.prompt_registry import publish_api_key
from tests.support.uvicorn_thread import serving

CAP = 2048
ANSWER_TIMEOUT_SECONDS = 10.0
WRONG_KEY = "llmops_0123456789ab_nope"


# Each service: its app, its settings and their body cap, and a route that takes a body.
SERVICES: dict[str, tuple[Callable[[Any], FastAPI], type[ServiceSettings], str, str]] = {
    "prompt_registry": (registry_app, RegistrySettings, "prompt_max_body_bytes", "/v1/prompts/big/versions"),
    "feedback_collector": (feedback_app, FeedbackSettings, "feedback_max_body_bytes", "/v1/feedback"),
    "ingestion": (ingestion_app, IngestionSettings, "ingest_max_body_bytes", "/v1/ingest"),
}


@pytest.fixture
async def admin_key(settings: PlatformSettings, unique: str) -> str:
    """A key of every scope of its tenant, so that no route refuses it for a missing scope."""
    return await publish_api_key(settings, f"bodies-{unique}", "admin")


@pytest.fixture
def service(
    request: pytest.FixtureRequest, settings: PlatformSettings, tmp_path: Path, admin_key: str
) -> Iterator[tuple[int, str]]:
    """The service named by the test's parameter over real HTTP (started once the key is issued, so its
    key ring holds it): its port, and the path of its route."""
    create_app, settings_class, cap_setting, path = SERVICES[request.param]
    own = settings_class(**{**settings.model_dump(), "data_dir": tmp_path / request.param, cap_setting: CAP})
    port = free_port()
    with serving(create_app(own), port, request.param):
        yield port, path


def answer_to_unfinished_post(
    port: int, path: str, chunks: Sequence[bytes], authorization: str | None
) -> tuple[int, dict[str, Any]]:
    """Sends a chunked POST's head and `chunks`, never its last chunk, and reads the server's answer."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", "Transfer-Encoding: chunked"]
    if authorization is not None:
        head.append(f"Authorization: {authorization}")
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_SECONDS) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for chunk in chunks:
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        response = http.client.HTTPResponse(connection)
        response.begin()  # times out when the server waits for the rest of the body
        return response.status, json.loads(response.read())


@pytest.mark.parametrize("service", list(SERVICES), indirect=True)
def test_a_chunked_body_over_the_cap_is_refused_as_it_streams(service: tuple[int, str], admin_key: str) -> None:
    port, path = service
    over_the_cap = [b'{"text": "', *(b"x" * 1024 for _ in range(3))]  # no length declared; never ends

    status, body = answer_to_unfinished_post(port, path, over_the_cap, f"Bearer {admin_key}")

    assert status == 413
    assert body["error"]["code"] == "too_large"
    assert body["error"]["detail"] == {"limit_bytes": CAP}


@pytest.mark.parametrize("service", ["prompt_registry", "feedback_collector"], indirect=True)
@pytest.mark.parametrize("authorization", [None, f"Bearer {WRONG_KEY}"], ids=["no_key", "wrong_key"])
def test_a_caller_without_a_valid_key_is_refused_before_its_body_is_read(
    service: tuple[int, str], authorization: str | None
) -> None:
    port, path = service

    status, body = answer_to_unfinished_post(port, path, [b'{"text": "' + b"x" * 512], authorization)

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("service", ["prompt_registry"], indirect=True)
def test_a_declared_length_over_the_cap_without_a_key_is_401_not_413(service: tuple[int, str]) -> None:
    port, path = service
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT_SECONDS) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {CAP * 100}\r\n\r\n".encode())
        response = http.client.HTTPResponse(connection)
        response.begin()
        assert response.status == 401
        assert response.getheader("WWW-Authenticate") == "Bearer"
