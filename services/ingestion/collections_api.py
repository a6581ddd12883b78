"""`/v1/collections`: the tenant's knowledge bases for RAG, listed and deleted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from llmops_common.auth.http import DataKey
from llmops_common.events.base import CollectionName

from .schemas import CollectionDeleted, CollectionOut

router = APIRouter(prefix="/v1", tags=["collections"])


@router.get("/collections")
async def list_collections(request: Request, principal: DataKey) -> list[CollectionOut]:
    """The tenant's collections by name, with the documents and chunks the retriever has indexed in each."""
    summaries = await request.state.deps.collections.summaries(principal.tenant)
    return [CollectionOut(name=c.name, documents=c.documents, chunks=c.chunks) for c in summaries]


@router.delete("/collections/{name}", status_code=status.HTTP_202_ACCEPTED)
async def delete_collection(
    name: Annotated[CollectionName, Path()], request: Request, principal: DataKey
) -> CollectionDeleted:
    """Erases every document of the collection from the index (the retriever acts on the events within
    seconds); 404 when the tenant has no document in it."""
    documents = await request.state.deps.collections.delete(principal.tenant, name, principal.key_id)
    return CollectionDeleted(name=name, documents=documents)
