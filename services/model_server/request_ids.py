"""Every response carries `x-request-id`; bodies over the cap are refused with 413 before they are read.

A plain ASGI middleware rather than an `@app.middleware`: it adds no task or copy per request, and it
leaves streamed responses (and their disconnects) untouched.
"""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llmops_common.errors import PayloadTooLargeError

from .errors import REQUEST_ID_HEADER, error_response


def new_request_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


class RequestIdAndBodyCap:
    """Names each request and caps the body size."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self._app = app
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        # Always the server's own: telemetry and feedback are keyed by it, so a client must not pick it.
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID_HEADER.encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            await error_response(self._too_large())(scope, receive, send_with_id)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_body_bytes:
                    raise self._too_large()
            return message

        await self._app(scope, capped_receive, send_with_id)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"the request body is over {self._max_body_bytes} bytes")
