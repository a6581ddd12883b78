"""Ops access to the embedded store, over enough of ClickHouse's HTTP interface for `clickhouse-connect`.

`GET /ping`, and `GET` or `POST /` with the query in the `query` parameter and/or the body, bound
`param_<name>` parameters and `default_format`, as a ClickHouse server takes them. Only one read-only
SELECT that stays in the store runs (see `readonly_sql`; others are 422 with the reason), within the
monitor's limits and at most `sql_max_concurrent_queries` at once (429 beyond). The caller authenticates
with an admin API key, as the password of HTTP basic auth (what a `http://user:KEY@host:port` DSN sends)
or as a bearer token (clickhouse-connect's `access_token`). A tenant admin's query reads its own tenant's
rows only (`tenant_sql`); an operator's reads every tenant's. Other settings the client sends are ignored.

Each query runs on a chdb connection of its own, never waiting for the telemetry sink's inserts nor
holding them up, and its output streams to the client (`sql_stream`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from llmops_common.auth.keyring import Principal
from llmops_common.errors import (
    ForbiddenError,
    PayloadTooLargeError,
    PermanentError,
    TooManyRequestsError,
    UnauthorizedError,
)
from llmops_common.storage.errors import TelemetryQueryError

from .readonly_sql import OpsConnection, SqlLimits, read_only_query
from .settings import Settings
from .sql_stream import OpenedQuery, QueryResponse

router = APIRouter(tags=["clickhouse"])

DEFAULT_FORMAT = "TabSeparated"
MAX_QUERY_BYTES = 256 * 1024
_CONTENT_TYPES = {
    "JSON": "application/json",
    "JSONEachRow": "application/x-ndjson",
    "Native": "application/octet-stream",
}


class SqlFailedError(PermanentError):
    """ClickHouse refused or stopped the query: a syntax error, a limit, read-only mode."""

    status_code = 400
    code = "sql_failed"


class EmbeddedOnlyError(PermanentError):
    """The monitor runs on a ClickHouse server, which ops users query directly."""

    status_code = 404
    code = "not_embedded"


@router.get("/ping", response_class=PlainTextResponse)
async def ping() -> str:
    """What a ClickHouse server's `/ping` answers."""
    return "Ok.\n"


@router.api_route("/", methods=["GET", "POST"])
async def clickhouse_query(request: Request) -> Response:
    """Runs one read-only SELECT over the embedded store and streams its output in the asked format."""
    deps = request.state.deps
    principal = _admin(deps.keyring, request)
    query_bytes = await _capped_body(request) if request.method == "POST" else b""
    text = "\n".join(part for part in (request.query_params.get("query", ""), _text(query_bytes)) if part)
    parameters = {name[6:]: value for name, value in request.query_params.items() if name.startswith("param_")}
    store = deps.telemetry
    if not hasattr(store, "connect"):
        raise EmbeddedOnlyError("this monitor stores telemetry on a ClickHouse server: query that server directly")
    slots: asyncio.Semaphore = deps.sql_slots
    if slots.locked():
        # Refused rather than queued: each waiting query would hold a worker thread.
        raise TooManyRequestsError("too many ops queries in progress: retry shortly", retry_after_seconds=1)
    await slots.acquire()  # does not wait: a slot is free
    asked = _Request(text, parameters, request.query_params.get("default_format"))
    tenant = None if principal.is_operator else principal.tenant
    try:
        # Shielded, so that the opened query always reaches the response that closes it.
        with anyio.CancelScope(shield=True):
            opened = await anyio.to_thread.run_sync(_open, store.connect, asked, _limits(deps.settings), tenant)
    except BaseException:
        slots.release()
        raise
    return QueryResponse(
        opened,
        slots,
        media_type=_CONTENT_TYPES.get(opened.format, "text/plain; charset=UTF-8"),
        headers={
            "X-ClickHouse-Format": opened.format,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Server-Display-Name": "llmops-monitor",
            "X-ClickHouse-Summary": json.dumps({"read_rows": "0", "result_rows": "0"}),
            "X-ClickHouse-User": principal.key_id,
        },
    )


def _limits(settings: Settings) -> SqlLimits:
    return SqlLimits(
        max_result_rows=settings.sql_max_result_rows,
        max_execution_seconds=settings.sql_max_execution_seconds,
        max_memory_bytes=settings.sql_max_memory_bytes,
        max_result_bytes=settings.sql_max_result_bytes,
        max_rows_to_read=settings.sql_max_rows_to_read,
        max_bytes_to_read=settings.sql_max_bytes_to_read,
        max_threads=settings.sql_max_threads,
    )


@dataclass(frozen=True)
class _Request:
    """An ops query as the client sent it."""

    text: str
    parameters: dict[str, str]
    default_format: str | None


def _open(connect: Callable[[], OpsConnection], asked: _Request, limits: SqlLimits, tenant: str | None) -> OpenedQuery:
    """The checked query, started on a connection of its own; in a worker thread, as chdb blocks."""
    connection = connect()
    try:
        query = read_only_query(asked.text, limits, connection, asked.parameters, tenant=tenant)
        fmt = query.output_format or asked.default_format or DEFAULT_FORMAT
        return OpenedQuery(connection, query, fmt, asked.parameters)
    except TelemetryQueryError as error:
        connection.close()
        raise SqlFailedError(error.message) from error
    except BaseException:
        connection.close()
        raise


async def _capped_body(request: Request) -> bytes:
    """The query body, read only as far as its cap: a larger one is refused before it is all in memory."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_QUERY_BYTES:
            raise PayloadTooLargeError(
                f"the query is over {MAX_QUERY_BYTES} bytes", detail={"limit_bytes": MAX_QUERY_BYTES}
            )
    return bytes(body)


def _text(body: bytes) -> str:
    try:
        return body.decode()
    except UnicodeDecodeError as error:
        raise SqlFailedError("the query is not UTF-8") from error


def _admin(keyring: Any, request: Request) -> Principal:
    """The caller's principal, which must administer its tenant (or, as an operator, every tenant)."""
    principal: Principal = keyring.authenticate(f"Bearer {_api_key(request)}")
    if not principal.is_admin:
        raise ForbiddenError("the SQL endpoint takes an admin API key")
    return principal


def _api_key(request: Request) -> str:
    """The API key from basic auth (its password), a bearer token, or ClickHouse's `X-ClickHouse-Key`."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise UnauthorizedError("malformed basic credentials") from error
        if password:
            return password
    if key := request.headers.get("x-clickhouse-key"):
        return key
    raise UnauthorizedError("send an admin API key as the basic-auth password or a bearer token")
