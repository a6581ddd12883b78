"""HTTP routes of datasets: what one holds now, seal it, list its versions, read a version with its profile.

`llmops data seal` and `llmops data profile` call these: the examples live in the ingestion
service's own store, so the service that holds them seals them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status

from llmops_common.auth.http import DataKey
from llmops_common.errors import NotFoundError
from llmops_common.events import DatasetSealedV1

from .schemas import DatasetOut, SealedOut, VersionOut

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
LATEST = "latest"
MIN_VERSION_PREFIX = 8


@router.get("/{name}")
async def dataset(name: str, request: Request, principal: DataKey) -> DatasetOut:
    """What the dataset holds now: its examples, what changed since the last seal, and its counters."""
    store = request.state.deps.ingestion.store
    if not store.ledger.exists(principal.tenant, name):
        raise NotFoundError(f"no dataset {name!r}", detail={"dataset": name})
    pending = store.ledger.pending(principal.tenant, name)
    return DatasetOut(
        name=name,
        examples=len(store.example_hashes(principal.tenant, name)),
        examples_since_seal=pending.added,
        changed_since_seal=pending.changed_at is not None,
        versions=len(store.ledger.versions(principal.tenant, name)),
        counters=store.ledger.counters(principal.tenant, name),
    )


@router.post("/{name}/seal")
async def seal(name: str, request: Request, response: Response, principal: DataKey) -> SealedOut:
    """Seals the dataset's examples as they are now: 201 with a new version, 200 when unchanged."""
    result = await request.state.deps.sealer.seal(principal.tenant, name, "command")
    response.status_code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return SealedOut(created=result.created, sealed=result.event)


@router.get("/{name}/versions")
async def versions(name: str, request: Request, principal: DataKey) -> list[VersionOut]:
    """Every sealed version of the dataset, oldest first."""
    return [_line(at, event) for at, event in _versions(request, principal.tenant, name)]


@router.get("/{name}/versions/{version}")
async def version(name: str, version: str, request: Request, principal: DataKey) -> DatasetSealedV1:
    """One version (`latest`, the full hash, or a unique prefix of 8 or more characters), with its profile."""
    sealed = [event for _, event in _versions(request, principal.tenant, name)]
    if version == LATEST:
        return sealed[-1]
    matches = [event for event in sealed if event.version.startswith(version)]
    if len(version) < MIN_VERSION_PREFIX or len(matches) != 1:
        raise NotFoundError(
            f"dataset {name!r} has no version {version!r}",
            detail={"dataset": name, "versions": [event.version for event in sealed]},
        )
    return matches[0]


def _versions(request: Request, tenant: str, name: str) -> list[tuple[float, DatasetSealedV1]]:
    sealed: list[tuple[float, DatasetSealedV1]] = request.state.deps.ingestion.store.ledger.versions(tenant, name)
    if not sealed:
        raise NotFoundError(f"dataset {name!r} has no sealed version", detail={"dataset": name})
    return sealed


def _line(sealed_at: float, event: DatasetSealedV1) -> VersionOut:
    return VersionOut(
        version=event.version,
        sealed_at=datetime.fromtimestamp(sealed_at, UTC),
        rows=event.rows,
        train_rows=event.train_rows,
        eval_rows=event.eval_rows,
        trigger=event.trigger,
    )
