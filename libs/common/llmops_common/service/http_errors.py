"""One JSON shape for every HTTP error: `{"error": {"code", "message", "detail"}}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import LlmopsError, TooManyRequestsError


def error_response(status: int, code: str, message: str, detail: object | None = None) -> JSONResponse:
    """The platform's error body with `status`."""
    return JSONResponse({"error": {"code": code, "message": message, "detail": detail}}, status_code=status)


def platform_error_response(error: LlmopsError) -> JSONResponse:
    """A platform error in the one JSON shape, with the headers its status calls for."""
    response = error_response(error.status_code, error.code, error.message, error.detail)
    if error.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"  # RFC 6750: say which scheme to use
    if isinstance(error, TooManyRequestsError):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


async def _platform_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LlmopsError)  # noqa: S101 - registered for this class only
    return platform_error_response(error)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this class only
    problems = [
        {"location": ".".join(str(part) for part in problem["loc"]), "problem": problem["msg"]}
        for problem in error.errors()
    ]
    return error_response(422, "invalid_request", "the request does not match the schema", problems)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this class only
    return error_response(error.status_code, "http_error", str(error.detail))


def install_error_handlers(app: FastAPI) -> None:
    """Renders platform errors, schema violations and routing errors in the one JSON shape."""
    app.add_exception_handler(LlmopsError, _platform_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
