"""Every response carries `x-request-id`, the server's own name for the request.

A plain ASGI middleware rather than an `@app.middleware`: it adds no task or copy per request, and it
leaves streamed responses (and their disconnects) untouched. It runs outside the body guard
(`llmops_common.service.body_guard`), so the guard's 401 and 413 carry an id too.
"""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import REQUEST_ID_HEADER


def new_request_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


class RequestIds:
    """Names each request, in its state and in its response's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        # Always the server's own: telemetry and feedback are keyed by it, so a client must not pick it.
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER.encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self._app(scope, receive, send_with_id)
