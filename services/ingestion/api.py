"""The ingestion service's HTTP routes: a batch of records in, the rejects log out."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, status
from pydantic import ValidationError

from llmops_common.auth.http import DataKey
from llmops_common.errors import PayloadTooLargeError, PermanentError, TooManyRequestsError
from llmops_common.events import RecordSubmittedV1

from .schemas import IngestAccepted, IngestBatch, RejectOut

router = APIRouter(prefix="/v1", tags=["ingestion"])


@router.post("/ingest", status_code=status.HTTP_202_ACCEPTED)
async def ingest(request: Request, principal: DataKey) -> IngestAccepted:
    """Puts a batch of records on `llmops.data.raw` for the pipeline, as other teams' producers do."""
    deps = request.state.deps
    slots: asyncio.Semaphore = deps.ingest_slots
    if slots.locked():
        # Refused before the body is read, rather than queued: each waiting request would hold its body.
        raise TooManyRequestsError("too many ingest requests in progress: retry shortly", retry_after_seconds=1)
    async with slots:
        body = await request.body()  # capped as it streams in, by the body guard (`app.py`)
        try:
            batch = IngestBatch.model_validate_json(body)
        except ValidationError as error:
            raise PermanentError("the request does not match the schema", detail=_problems(error)) from error
        if len(batch.records) > deps.settings.ingest_max_batch_records:
            limit = deps.settings.ingest_max_batch_records
            raise PayloadTooLargeError(f"a batch holds at most {limit} records", detail={"limit_records": limit})
        events = [_event(principal.tenant, n, record.model_dump()) for n, record in enumerate(batch.records)]
        await deps.runtime.bus.publisher.publish_many(events)
    return IngestAccepted(accepted=len(events), record_ids=[event.record_id for event in events])


@router.get("/rejects")
async def rejects(request: Request, principal: DataKey) -> list[RejectOut]:
    """The tenant's rejects log: every record the pipeline refused, and why."""
    return [RejectOut(**row) for row in request.state.deps.ingestion.store.rejects(principal.tenant)]


def _event(tenant: str, index: int, fields: dict[str, object]) -> RecordSubmittedV1:
    try:
        return RecordSubmittedV1.model_validate({**fields, "tenant": tenant})
    except ValidationError as error:
        raise PermanentError(f"record {index} is not valid", detail=_problems(error, f"records.{index}")) from error


def _problems(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [
        {"location": ".".join([prefix, *(str(part) for part in problem["loc"])]).strip("."), "problem": problem["msg"]}
        for problem in error.errors()
    ]
