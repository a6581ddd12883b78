"""A route dependency that refuses a request body over a service's cap (413) before it is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from ..errors import PayloadTooLargeError


def body_cap(setting: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency that reads the cap, in bytes, from the setting `setting` of the service's `deps.settings`."""

    async def within_body_cap(request: Request) -> None:
        cap: int = getattr(request.state.deps.settings, setting)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > cap:
            raise PayloadTooLargeError(f"the request body is over {cap} bytes", detail={"limit_bytes": cap})

    return within_body_cap
