"""What every chapter works with: the platform, its event log, the story, and an HTTP client that
calls the services with the development key, as a product app would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .event_log import EventLog
from .platform import DemoPlatform
from .story import Story


class CallFailedError(RuntimeError):
    """A service answered with an unexpected status."""


@dataclass(frozen=True)
class Answer:
    """A chat completion: its text, the server's request id, and the platform's extra fields."""

    text: str
    request_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Session:
    """One demo run's handles."""

    platform: DemoPlatform
    events: EventLog
    story: Story
    http: httpx.AsyncClient
    """Sends the development key (admin of the tenant `dev`)."""

    def url(self, service: str, path: str) -> str:
        """A service's URL for `path`."""
        return f"{self.platform.url(service)}{path}"

    async def chat(self, model: str, question: str, max_tokens: int, **extra: Any) -> httpx.Response:
        """`POST /v1/chat/completions`, greedy, with the platform's extra fields (`rag`, say)."""
        body = {
            "model": model,
            "messages": [{"role": "user", "content": question}],
            "max_tokens": max_tokens,
            "temperature": 0,
            **extra,
        }
        return await self.http.post(self.url("model_server", "/v1/chat/completions"), json=body)

    async def ask(self, model: str, question: str, max_tokens: int, **extra: Any) -> Answer:
        """A chat completion that must succeed."""
        response = await self.chat(model, question, max_tokens, **extra)
        body = expect(response, 200)
        return Answer(body["choices"][0]["message"]["content"] or "", response.headers["x-request-id"], body)


def expect(response: httpx.Response, *statuses: int) -> Any:
    """The JSON body of a response with one of `statuses`; else an error that shows what came back."""
    if response.status_code not in statuses:
        raise CallFailedError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


async def poll_until(check: Callable[[], Awaitable[bool]], timeout: float, interval: float = 0.2) -> None:
    """Calls `check` every `interval` seconds until it is true; TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(interval)
