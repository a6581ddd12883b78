"""The body guard at the ASGI level: the key is checked from the head, the body is counted as it comes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import Message

from llmops_common.auth.api_keys import issue_key
from llmops_common.auth.http import CurrentPrincipal
from llmops_common.auth.keyring import KeyRing
from llmops_common.service.body_guard import BodyGuard, GuardedBodies
from llmops_common.service.http_errors import install_error_handlers

CAP = 100


def guarded_app() -> tuple[BodyGuard, KeyRing, str]:
    """A FastAPI app behind the guard, whose route echoes the body's length and the caller's tenant."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/echo")
    async def echo(request: Request, principal: CurrentPrincipal) -> dict[str, object]:
        return {"bytes": len(await request.body()), "tenant": principal.tenant}

    @app.post("/v1/parsed")
    async def parsed(body: dict[str, str], principal: CurrentPrincipal) -> dict[str, object]:
        return {"keys": len(body)}

    @app.post("/healthz")
    async def health(request: Request) -> dict[str, object]:
        return {"bytes": len(await request.body())}

    keyring = KeyRing()
    token, issued = issue_key("acme", issued_by="tests")
    keyring.apply(issued)
    return BodyGuard(app, GuardedBodies(CAP)), keyring, token


async def call(
    guard: BodyGuard, keyring: KeyRing, path: str, chunks: Sequence[bytes], headers: dict[str, str]
) -> tuple[int, dict[str, Any], int]:
    """Sends `chunks` as the body; returns the status, the JSON body, and how many chunks the app read."""
    pending = list(chunks)
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "server": ("test", 80),
        "client": ("test", 1),
        "state": {"deps": SimpleNamespace(keyring=keyring)},
    }
    await guard(scope, receive, send)
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert len(statuses) == 1, sent  # exactly one answer, whatever the app tried after a refusal
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return statuses[0], json.loads(body), read


async def test_a_caller_without_a_valid_key_is_refused_before_a_byte_is_read() -> None:
    guard, keyring, _ = guarded_app()
    for headers in ({}, {"Authorization": "Bearer llmops_0123456789ab_nope"}):
        status, body, read = await call(guard, keyring, "/v1/echo", [b"x" * 50], headers)
        assert (status, body["error"]["code"], read) == (401, "unauthorized", 0)


async def test_a_declared_length_over_the_cap_is_refused_before_a_byte_is_read() -> None:
    guard, keyring, token = guarded_app()
    headers = {"Authorization": f"Bearer {token}", "Content-Length": str(CAP + 1)}
    status, body, read = await call(guard, keyring, "/v1/echo", [b"x" * (CAP + 1)], headers)
    assert (status, body["error"]["detail"], read) == (413, {"limit_bytes": CAP}, 0)


async def test_a_streamed_body_is_refused_at_the_chunk_that_passes_the_cap() -> None:
    guard, keyring, token = guarded_app()
    chunks = [b"x" * 40] * 10
    status, body, read = await call(guard, keyring, "/v1/echo", chunks, {"Authorization": f"Bearer {token}"})
    assert (status, body["error"]["code"], read) == (413, "too_large", 3)  # 120 bytes > 100: no further


async def test_a_body_fastapi_parses_is_refused_with_413_not_the_400_of_its_aborted_read() -> None:
    guard, keyring, token = guarded_app()
    chunks = [b'{"a": "', b"x" * 60, b"x" * 60, b'"}']
    status, body, read = await call(guard, keyring, "/v1/parsed", chunks, {"Authorization": f"Bearer {token}"})
    assert (status, body["error"]["code"], read) == (413, "too_large", 3)


async def test_a_body_within_the_cap_reaches_the_route_with_the_guards_principal() -> None:
    guard, keyring, token = guarded_app()
    chunks = [b"x" * 50, b"x" * 50]
    status, body, _ = await call(guard, keyring, "/v1/echo", chunks, {"Authorization": f"Bearer {token}"})
    assert (status, body) == (200, {"bytes": 100, "tenant": "acme"})


async def test_routes_outside_the_prefix_pass_untouched() -> None:
    guard, keyring, _ = guarded_app()
    status, body, _ = await call(guard, keyring, "/healthz", [b"x" * (CAP * 2)], {})
    assert (status, body) == (200, {"bytes": CAP * 2})
