"""The OpenAI-compatible routes: thin, the work is in `serving.InferenceService`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from llmops_common.auth.http import InferenceKey
from llmops_common.auth.keyring import Principal

from .call_record import Call
from .openapi_bodies import json_body
from .preparation import Kind
from .protocol import ChatCompletionRequest, CompletionRequest, ModelCard, ModelList
from .serving import InferenceService

router = APIRouter()
SESSION_HEADER = "x-session-id"
"""A client's session id: the canary's sticky key when the request names no `user`."""
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The completion; with `stream: true`, its Server-Sent Events",
        "content": {"text/event-stream": {}},
    }
}
"""The OpenAPI's 200 of the completion routes: JSON (FastAPI's default), or an event stream."""


class _CallStream(StreamingResponse):
    """A stream that ends its call even when it is never read (the client left before it began)."""

    def __init__(self, stream: AsyncIterator[bytes], service: InferenceService, call: Call) -> None:
        super().__init__(stream, media_type="text/event-stream", headers=_SSE_HEADERS)
        self._service = service
        self._call = call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._service.abandon(self._call)


async def _serve(request: Request, principal: Principal, kind: Kind) -> Response:
    service: InferenceService = request.state.deps.service
    call = Call(kind, request.state.request_id, principal)
    result = await service.serve(call, await request.body(), request.headers.get(SESSION_HEADER))
    if isinstance(result, dict):
        return JSONResponse(result)
    return _CallStream(result, service, call)


@router.post("/v1/chat/completions", openapi_extra=json_body(ChatCompletionRequest), responses=_ANSWERS)
async def chat_completions(request: Request, principal: InferenceKey) -> Response:
    """OpenAI's chat completions, with `prompt_ref` and `rag` as extensions."""
    return await _serve(request, principal, "chat")


@router.post("/v1/completions", openapi_extra=json_body(CompletionRequest), responses=_ANSWERS)
async def completions(request: Request, principal: InferenceKey) -> Response:
    """OpenAI's (legacy) text completions, with `prompt_ref` and `rag` as extensions."""
    return await _serve(request, principal, "completion")


@router.get("/v1/models")
async def list_models(request: Request, principal: InferenceKey) -> ModelList:
    """The base model and every deployed model this key may call (its tenant's, shared and unowned ones)."""
    deps = request.state.deps
    table = deps.controller.table
    return ModelList(
        data=[ModelCard(id=name, created=deps.started_at, owned_by="llmops") for name in table.names_for(principal)]
    )
