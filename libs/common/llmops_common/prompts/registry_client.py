"""A small synchronous client of the prompt registry's HTTP API, for the CLI and for scripts.

Each method returns the response's JSON as the registry sent it; any failure is a `RegistryError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import LlmopsError


class RegistryError(LlmopsError):
    """A call to the registry that failed: an error response, or a registry that did not answer.

    `status` is the HTTP status, None when no response came; `code`, `message` and `detail` come
    from the registry's error body where it sent one.
    """

    def __init__(self, message: str, status: int | None, detail: object | None = None, code: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.status = status
        self.error_code = code


class PromptRegistryClient:
    """Calls the registry at `base_url` with an API key; close it, or use it as a context manager."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    def __enter__(self) -> PromptRegistryClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connections."""
        self._http.close()

    def create_version(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Saves a new version (`PromptFile.version_request` builds `body`); returns the version."""
        return self._call("POST", f"{_path(name)}/versions", json=body)

    def get_prompt(self, name: str, *, label: str | None = None, version: int | None = None) -> dict[str, Any]:
        """The version a label or a number names, or the latest."""
        return self._call("GET", _path(name), params=_without_none(label=label, version=version))

    def list_versions(self, name: str) -> dict[str, Any]:
        """Every version of a prompt, oldest first, and where its labels point."""
        return self._call("GET", f"{_path(name)}/versions")

    def list_prompts(self, *, label: str | None = None, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        """One page of the prompts; pass its `next_cursor` as `cursor` for the next."""
        return self._call("GET", "/v1/prompts", params=_without_none(label=label, limit=limit, cursor=cursor))

    def iter_prompts(self, *, label: str | None = None, page_size: int = 50) -> Iterator[dict[str, Any]]:
        """Every prompt, following the pages."""
        cursor: str | None = None
        while True:
            page = self.list_prompts(label=label, limit=page_size, cursor=cursor)
            yield from page["prompts"]
            cursor = page.get("next_cursor")
            if cursor is None:
                return

    def move_label(self, name: str, label: str, version: int, *, expected_version: int | None = None) -> dict[str, Any]:
        """Points `label` at `version`; `expected_version` is where the caller saw it (0: nowhere)."""
        body = {"version": version, "expected_version": expected_version}
        return self._call("PUT", f"{_path(name)}/labels/{quote(label, safe='')}", json=body)

    def render(
        self, name: str, variables: dict[str, Any], *, label: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """A version rendered with `variables`: `text` for a text prompt, `messages` for a chat prompt."""
        body = {"variables": variables, "label": label, "version": version}
        return self._call("POST", f"{_path(name)}/render", json=body)

    def diff(self, name: str, from_ref: str | int, to_ref: str | int) -> dict[str, Any]:
        """A unified diff between two versions, each a version number or a label."""
        return self._call("GET", f"{_path(name)}/diff", params={"from": str(from_ref), "to": str(to_ref)})

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise RegistryError(f"the prompt registry at {self.base_url} did not answer in time", None) from error
        except httpx.HTTPError as error:
            raise RegistryError(f"cannot reach the prompt registry at {self.base_url}: {error}", None) from error
        if response.is_success:
            body: dict[str, Any] = response.json()
            return body
        raise _error_of(response)


def _path(name: str) -> str:
    # A name the registry would refuse could still hold '/' or '?'; quoting keeps it in its path segment.
    return f"/v1/prompts/{quote(name, safe='')}"


def _without_none(**params: object) -> dict[str, object]:
    return {key: value for key, value in params.items() if value is not None}


def _error_of(response: httpx.Response) -> RegistryError:
    """The registry's `{"error": {"code", "message", "detail"}}`, or the raw response from anything else."""
    try:
        error = response.json()["error"]
        return RegistryError(str(error["message"]), response.status_code, error.get("detail"), error.get("code"))
    except (ValueError, KeyError, TypeError):
        text = response.text.strip()[:500] or response.reason_phrase
        return RegistryError(f"the prompt registry answered {response.status_code}: {text}", response.status_code)
