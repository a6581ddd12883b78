"""The base of the small synchronous clients the CLI uses to call a service's HTTP API with an API key.

Every call returns the response's JSON as the service sent it; any failure raises the client's
`ServiceCallError` subclass, with the service's `{"error": {"code", "message", "detail"}}` unpacked.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from .errors import LlmopsError


class ServiceCallError(LlmopsError):
    """A call that failed: an error response, or a service that did not answer.

    `status` is the HTTP status, None when no response came; `code`, `message` and `detail` come
    from the service's error body where it sent one.
    """

    def __init__(self, message: str, status: int | None, detail: object | None = None, code: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.status = status
        self.error_code = code


class JsonServiceClient:
    """Calls a service at `base_url` with an API key; close it, or use it as a context manager."""

    service_label: ClassVar[str] = "the service"
    """How messages name the service: "the prompt registry at http://..."."""
    error_class: ClassVar[type[ServiceCallError]] = ServiceCallError

    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connections."""
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A call whose answer is a JSON object."""
        body: dict[str, Any] = self._call_json(method, path, **kwargs)
        return body

    def _call_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call, and its answer's JSON of whatever shape."""
        where = f"{self.service_label} at {self.base_url}"
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise self.error_class(f"{where} did not answer in time", None) from error
        except httpx.HTTPError as error:
            raise self.error_class(f"cannot reach {where}: {error}", None) from error
        if response.is_success:
            return response.json()
        raise self._error_of(response)

    def _error_of(self, response: httpx.Response) -> ServiceCallError:
        """The service's error body, or the raw response from anything else."""
        try:
            error = response.json()["error"]
            return self.error_class(str(error["message"]), response.status_code, error.get("detail"), error.get("code"))
        except (ValueError, KeyError, TypeError):
            text = response.text.strip()[:500] or response.reason_phrase
            return self.error_class(
                f"{self.service_label} answered {response.status_code}: {text}", response.status_code
            )
