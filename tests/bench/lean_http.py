"""A minimal HTTP/1.1 client on one keep-alive connection, for timing a server rather than a client library.

httpx spends about 1.3 ms of its own per request on a 2-core machine, more than the 2 ms a gateway is
allowed in all; this client writes the request and reads a `Content-Length` response, nothing else.
It does not follow redirects, decode chunked bodies or reconnect: the benchmark's server answers JSON
with a length, and a response without one is an error here.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from urllib.parse import urlsplit


class LeanHttpError(RuntimeError):
    """The server answered something this client does not read, or not 200."""


class LeanHttpClient:
    """One connection to `base_url`; `post_json` sends a request and returns the response body."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{base_url!r} names no host and port")
        self._host, self._port = parts.hostname, parts.port
        self._fixed_headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LeanHttpClient:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def post_json(self, path: str, body: object) -> bytes:
        """POSTs `body` as JSON to `path` and returns the response body; raises unless the status is 200."""
        if self._reader is None or self._writer is None:
            raise LeanHttpError("the client is not open")
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n{self._fixed_headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self._writer.write(head.encode() + payload)
        status = await self._reader.readline()
        length = await self._content_length(self._reader)
        content = await self._reader.readexactly(length)
        if status.split(b" ", 2)[1:2] != [b"200"]:
            raise LeanHttpError(f"{status.decode().strip()}: {content[:200]!r}")
        return content

    @staticmethod
    async def _content_length(reader: asyncio.StreamReader) -> int:
        length: int | None = None
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise LeanHttpError("a response without Content-Length")
        return length
