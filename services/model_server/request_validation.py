"""Request bodies are validated in the route (not by FastAPI) so that a bad one is still recorded."""

from __future__ import annotations

from pydantic import ValidationError

from .errors import BadRequestError


class RequestInvalidError(BadRequestError):
    """The body is not valid JSON or does not match OpenAI's schema."""

    status_code = 422


def validation_message(error: ValidationError) -> str:
    """Every problem as `field: what is wrong`, joined."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}" for problem in error.errors()
    )
