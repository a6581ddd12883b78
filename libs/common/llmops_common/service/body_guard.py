"""Authenticates a request from its head, then caps its body while it streams in.

A route's dependencies run only after FastAPI has read the whole body, and a chunked body declares no
length: a dependency can refuse neither an anonymous caller nor a body that is too large before it is in
memory. This guard sits in front of the app instead. It checks the key against the service's key ring
before a body byte is read, refuses a declared length over the cap at once, and otherwise counts each
chunk as the app receives it, answering 413 the moment the count passes the cap; it buffers nothing.

A plain ASGI middleware, as in `middleware.py`: the model server pays for it on every request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.http import GUARD_PRINCIPAL
from ..auth.keyring import KeyRing
from ..errors import LlmopsError, PayloadTooLargeError
from .http_errors import platform_error_response

ErrorRenderer = Callable[[LlmopsError], Response]
"""Renders a refusal in the service's error shape (the platform's, or OpenAI's on the model server)."""


@dataclass(frozen=True)
class GuardedBodies:
    """Requests under `prefix` need a valid key, and their bodies hold at most `max_bytes`."""

    max_bytes: int
    prefix: str = "/v1/"
    render: ErrorRenderer = platform_error_response


class _BodyOverCapError(Exception):
    """Raised into the app from `receive` once the guard has answered 413, to stop it reading on."""


class BodyGuard:
    """Authenticates before the body, then caps the body as it streams; see the module's docstring.

    The principal goes into the request's state, where `auth.http.authenticated` takes it rather than
    checking the key twice. Scopes stay with the routes.
    """

    def __init__(self, app: ASGIApp, policy: GuardedBodies) -> None:
        self._app = app
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self._policy.prefix):
            await self._app(scope, receive, send)
            return
        authorization, declared = _head(scope)
        keyring: KeyRing = scope["state"]["deps"].keyring
        try:
            scope["state"][GUARD_PRINCIPAL] = keyring.authenticate(authorization)
        except LlmopsError as refused:
            await self._policy.render(refused)(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self._policy.max_bytes:
            await self._policy.render(self._too_large())(scope, receive, send)
            return
        await self._run_capped(scope, receive, send)

    async def _run_capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = answered = False

        async def capped_receive() -> Message:
            nonlocal received, answered
            if answered:
                raise _BodyOverCapError
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._policy.max_bytes:
                    answered = True
                    if not started:
                        await self._policy.render(self._too_large())(scope, receive, send)
                    raise _BodyOverCapError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Once the guard has answered, whatever the app makes of the aborted read (FastAPI turns
            # it into a 400) goes nowhere.
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyOverCapError):
            await self._app(scope, capped_receive, guarded_send)

    def _too_large(self) -> PayloadTooLargeError:
        cap = self._policy.max_bytes
        return PayloadTooLargeError(f"the request body is over {cap} bytes", detail={"limit_bytes": cap})


def _head(scope: Scope) -> tuple[str | None, str | None]:
    """The `Authorization` and `Content-Length` headers, in one pass over the head."""
    authorization = declared = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"content-length":
            declared = value.decode("latin-1")
    return authorization, declared
