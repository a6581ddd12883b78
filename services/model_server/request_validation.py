"""Request bodies are validated in the route (not by FastAPI) so that a bad one is still recorded."""

from __future__ import annotations

from pydantic import ValidationError

from llmops_common.errors import PermanentError


class RequestInvalidError(PermanentError):
    """The body is not valid JSON or does not match OpenAI's schema."""

    status_code = 422
    code = "invalid_request"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def validation_message(error: ValidationError) -> str:
    """Every problem as `field: what is wrong`, joined."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}" for problem in error.errors()
    )
