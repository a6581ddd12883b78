"""An ops query's output on its way to the client, a block at a time, on the query's own connection.

The first MiB of output is read before the response starts, so a query that fails early (a syntax error,
a result limit it passes soon) still answers 400 with the reason. A failure after that can only cut the
response short: the connection drops without the body's last chunk, which a client reports as an error,
never as a complete result. Formats whose blocks do not join into one document (`JSON`, `CSVWithNames`,
...) are read whole instead, within the same result limits.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from llmops_common.storage.chdb_connection import STREAMABLE_FORMATS

from .readonly_sql import OpsConnection, ReadOnlyQuery

FIRST_BYTES = 1 << 20
"""Output read before the response starts, within which a failure is still a 400 with its reason."""


class OpenedQuery:
    """A query started on its connection: the head of its output, read, and an iterator over the rest."""

    def __init__(self, connection: OpsConnection, query: ReadOnlyQuery, fmt: str, parameters: Mapping[str, str]):
        self.connection = connection
        self.format = fmt
        self._blocks: Iterator[bytes]
        if fmt in STREAMABLE_FORMATS:
            self._blocks = connection.stream(query.sql, fmt, parameters)
        else:
            self._blocks = iter([connection.query_bytes(query.sql, fmt, parameters)])
        head: list[bytes] = []
        size = 0
        for block in self._blocks:
            head.append(block)
            size += len(block)
            if size >= FIRST_BYTES:
                break
        self.first = b"".join(head)

    def blocks(self) -> Iterator[bytes]:
        """The whole output: the head, then each block left."""
        return itertools.chain([self.first], self._blocks)

    def close(self) -> None:
        """Cancels the query if it has more to give, and closes its connection. Blocks."""
        try:
            close = getattr(self._blocks, "close", None)
            if close is not None:
                close()
        finally:
            self.connection.close()


class QueryResponse(StreamingResponse):
    """Streams an opened query; once done, or cut off, closes it and frees its slot among the ops queries."""

    def __init__(self, opened: OpenedQuery, slots: asyncio.Semaphore, media_type: str, headers: dict[str, str]):
        super().__init__(opened.blocks(), media_type=media_type, headers=headers)
        self._opened = opened
        self._slots = slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Sends the response, then releases the query whatever happened to the client."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: a client that went away cancels the response, and the cleanup must still run.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._opened.close)
            self._slots.release()
