"""A small synchronous client of the ingestion service's dataset, erasure and collection routes, for the CLI."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..events import DatasetSealedV1, ErasureCompletedV1
from ..http_client import JsonServiceClient, ServiceCallError


class IngestionCallError(ServiceCallError):
    """A call to the ingestion service that failed."""


class IngestionClient(JsonServiceClient):
    """Calls the ingestion service at `base_url` with an API key."""

    service_label = "the ingestion service"
    error_class = IngestionCallError

    def seal(self, name: str) -> tuple[bool, DatasetSealedV1]:
        """Seals the dataset now: whether that made a new version, and the version's event."""
        body = self._call("POST", f"{_path(name)}/seal")
        return bool(body["created"]), DatasetSealedV1.model_validate(body["sealed"])

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every sealed version of the dataset, oldest first."""
        body: list[dict[str, Any]] = self._call_json("GET", f"{_path(name)}/versions")
        return body

    def version(self, name: str, version: str = "latest") -> DatasetSealedV1:
        """One version (`latest`, a hash or a unique prefix of one), with its profile."""
        return DatasetSealedV1.model_validate(self._call("GET", f"{_path(name)}/versions/{quote(version, safe='')}"))

    def erase(self, request: dict[str, Any]) -> ErasureCompletedV1:
        """Carries out an erasure request (`doc_id`, or `key` and `value`, and `reason`)."""
        return ErasureCompletedV1.model_validate(self._call("POST", "/v1/erasures", json=request))

    def collections(self) -> list[dict[str, Any]]:
        """The tenant's collections: `name`, `documents` and `chunks` of each, by name."""
        body: list[dict[str, Any]] = self._call_json("GET", "/v1/collections")
        return body

    def delete_collection(self, name: str) -> int:
        """Deletes a collection from the index; returns how many documents left it."""
        return int(self._call("DELETE", f"/v1/collections/{quote(name, safe='')}")["documents"])


def _path(name: str) -> str:
    return f"/v1/datasets/{quote(name, safe='')}"
