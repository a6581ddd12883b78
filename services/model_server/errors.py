"""The model server's errors, rendered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

The platform's own errors keep their status and code; only the shape changes, so that OpenAI SDKs raise
their typed exceptions (`AuthenticationError`, `NotFoundError`, `RateLimitError`, ...).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from llmops_common.errors import LlmopsError, PermanentError, RetryableError

REQUEST_ID_HEADER = "x-request-id"
"""Set on every response by `request_ids.RequestIds`; the feedback collector refers to it."""

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable_error",
    504: "timeout_error",
}


class BadRequestError(PermanentError):
    """A request the schema allows but the server cannot take (a cap, a contradiction)."""

    status_code = 400
    code = "invalid_request"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ModelNotFoundError(PermanentError):
    """The model is neither the base model nor a deployed one (or the key may not call it)."""

    status_code = 404
    code = "model_not_found"


class RateLimitedError(LlmopsError):
    """A per-key limit is reached; `retry_after` says when the request would pass."""

    status_code = 429
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverloadedError(RetryableError):
    """Every running slot and every queue place is taken."""

    code = "overloaded"


class TenantBlockedError(RateLimitedError):
    """The tenant may not call models now (its budget is spent); `retry_after` says when it may again."""

    status_code = 429
    code = "tenant_blocked"


class GenerationFailedError(LlmopsError):
    """The engine failed while generating."""

    status_code = 500
    code = "engine_error"


def error_type(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    return _TYPES.get(status, "server_error")


def openai_error(status: int, message: str, code: str, param: str | None = None) -> JSONResponse:
    """An error response in OpenAI's shape."""
    body = {"error": {"message": message, "type": error_type(status), "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def error_response(error: LlmopsError) -> JSONResponse:
    """A platform error as OpenAI's error response, with the headers its status calls for."""
    response = openai_error(error.status_code, error.message, error.code, getattr(error, "param", None))
    if isinstance(error, RateLimitedError):
        response.headers["Retry-After"] = str(max(1, round(error.retry_after + 0.5)))
    elif error.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, OverloadedError):
        response.headers["Retry-After"] = "1"
    return response


async def _platform_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LlmopsError)  # noqa: S101 - registered for this class only
    return error_response(error)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this class only
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
    param = ".".join(str(part) for part in first["loc"] if part != "body") or None
    message = "; ".join(
        f"{'.'.join(str(p) for p in problem['loc'] if p != 'body')}: {problem['msg']}" for problem in error.errors()
    )
    return openai_error(422, message, "invalid_request", param)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this class only
    return openai_error(error.status_code, str(error.detail), "http_error")


def install_openai_error_handlers(app: FastAPI) -> None:
    """Replaces the platform's error shape with OpenAI's on this app."""
    app.add_exception_handler(LlmopsError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
