"""One error hierarchy: each error says whether a retry can help and which HTTP status it maps to."""

from __future__ import annotations

from typing import ClassVar


class LlmopsError(Exception):
    """Base of every error the platform raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, detail: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class RetryableError(LlmopsError):
    """A failure that may pass on another attempt (a store or broker briefly away)."""

    status_code = 503
    code = "unavailable"


class PermanentError(LlmopsError):
    """A failure that no retry can fix; an event that raises it goes to the dead-letter topic."""

    status_code = 422
    code = "invalid"


class InvalidEventError(PermanentError):
    """A message that is not a valid CloudEvent of a type the consumer accepts."""

    code = "invalid_event"


class NotFoundError(PermanentError):
    """The thing asked for does not exist."""

    status_code = 404
    code = "not_found"


class ConflictError(PermanentError):
    """The write lost an optimistic-concurrency race."""

    status_code = 409
    code = "conflict"


class BrokerUnavailableError(RetryableError):
    """The broker did not take an event within the publish timeout; the event may still arrive later."""

    code = "broker_unavailable"


class RequestTimeoutError(RetryableError):
    """A request/reply call got no reply in time."""

    status_code = 504
    code = "timeout"


class StateDirInUseError(LlmopsError):
    """Another process holds this service instance's state directory."""

    code = "state_dir_in_use"


class UnauthorizedError(LlmopsError):
    """No API key, or one that is unknown or revoked."""

    status_code = 401
    code = "unauthorized"


class ForbiddenError(PermanentError):
    """The API key is valid but may not do this."""

    status_code = 403
    code = "forbidden"


class PayloadTooLargeError(PermanentError):
    """A body or a field is over its size limit."""

    status_code = 413
    code = "too_large"


class TooManyRequestsError(RetryableError):
    """The caller must wait: a rate limit or an enforced budget. HTTP answers carry `Retry-After`."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_seconds: int, detail: object | None = None) -> None:
        super().__init__(message, detail=detail)
        self.retry_after_seconds = retry_after_seconds
