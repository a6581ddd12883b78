"""OpenAI's response bodies and stream chunks, built as plain dicts (they are on the hot path)."""

from __future__ import annotations

import json
from typing import Any

from .errors import error_type
from .generation import Progress
from .preparation import Kind, PreparedPrompts
from .protocol import Served

DONE = b"data: [DONE]\n\n"


def object_name(kind: Kind, *, chunk: bool) -> str:
    """OpenAI's `object` field."""
    if kind == "chat":
        return "chat.completion.chunk" if chunk else "chat.completion"
    return "text_completion"


def usage(progress: Progress) -> dict[str, int]:
    """The `usage` object."""
    prompt, completion = progress.prompt_tokens, progress.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def extensions(served: Served, prepared: PreparedPrompts) -> dict[str, Any]:
    """The platform's extra fields: what served the request and the sources it used."""
    body: dict[str, Any] = {"served": served.model_dump()}
    if prepared.sources:
        body["sources"] = [source.model_dump() for source in prepared.sources]
    return body


def full_response(
    kind: Kind, response_id: str, created: int, served: Served, prepared: PreparedPrompts, progress: Progress
) -> dict[str, Any]:
    """A whole chat or text completion."""
    choices: list[dict[str, Any]] = []
    for choice in progress.choices:
        text = "".join(choice.text)
        if kind == "chat":
            message = {"role": "assistant", "content": text, "refusal": None}
            choices.append(
                {"index": choice.index, "message": message, "finish_reason": choice.finish_reason, "logprobs": None}
            )
        else:
            choices.append(
                {"index": choice.index, "text": text, "finish_reason": choice.finish_reason, "logprobs": None}
            )
    return {
        "id": response_id,
        "object": object_name(kind, chunk=False),
        "created": created,
        "model": served.model,
        "system_fingerprint": None,
        "choices": choices,
        "usage": usage(progress),
        **extensions(served, prepared),
    }


def sse(payload: dict[str, Any]) -> bytes:
    """One Server-Sent Event."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class ChunkWriter:
    """Writes the stream's chunks: a role chunk per choice first (chat), deltas, then usage if asked."""

    def __init__(self, kind: Kind, response_id: str, created: int, served: Served, include_usage: bool) -> None:
        self._kind = kind
        self._head = {
            "id": response_id,
            "object": object_name(kind, chunk=True),
            "created": created,
            "model": served.model,
        }
        self._include_usage = include_usage
        self._served = served

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body: dict[str, Any] = {**self._head, "system_fingerprint": None, "choices": choices, **extra}
        if self._include_usage:
            body["usage"] = None
        return sse(body)

    def opening(self, choices: int, prepared: PreparedPrompts) -> bytes:
        """The first chunk: the assistant role for each choice, and the platform's extensions."""
        extra = extensions(self._served, prepared)
        opened: list[dict[str, Any]]
        if self._kind == "chat":
            opened = [
                {"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None, "logprobs": None}
                for i in range(choices)
            ]
        else:
            opened = [{"index": i, "text": "", "finish_reason": None, "logprobs": None} for i in range(choices)]
        return self._chunk(opened, **extra)

    def delta(self, index: int, text: str, finish_reason: str | None) -> bytes:
        """One choice's new text, with its finish reason on its last chunk."""
        if self._kind == "chat":
            delta: dict[str, Any] = {"content": text} if text or finish_reason is None else {}
            return self._chunk([{"index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": None}])
        return self._chunk([{"index": index, "text": text, "finish_reason": finish_reason, "logprobs": None}])

    def usage(self, progress: Progress) -> bytes:
        """The last chunk when `stream_options.include_usage`: no choices, the usage."""
        return sse({**self._head, "system_fingerprint": None, "choices": [], "usage": usage(progress)})

    def error(self, status: int, message: str, code: str) -> bytes:
        """An error after the stream began (the status line is sent already): OpenAI's error shape."""
        return sse(
            {"error": {"message": message, "type": error_type(status), "param": None, "code": code, "status": status}}
        )
