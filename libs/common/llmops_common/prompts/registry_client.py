"""A small synchronous client of the prompt registry's HTTP API, for the CLI and for scripts.

Each method returns the response's JSON as the registry sent it; any failure is a `RegistryError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from ..http_client import JsonServiceClient, ServiceCallError


class RegistryError(ServiceCallError):
    """A call to the registry that failed: an error response, or a registry that did not answer."""


class PromptRegistryClient(JsonServiceClient):
    """Calls the registry at `base_url` with an API key; close it, or use it as a context manager."""

    service_label = "the prompt registry"
    error_class = RegistryError

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


def _path(name: str) -> str:
    # A name the registry would refuse could still hold '/' or '?'; quoting keeps it in its path segment.
    return f"/v1/prompts/{quote(name, safe='')}"


def _without_none(**params: object) -> dict[str, object]:
    return {key: value for key, value in params.items() if value is not None}
