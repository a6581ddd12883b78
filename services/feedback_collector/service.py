"""The collector's logic: checks feedback against the requests it learned, publishes it, and turns
corrections into training examples. It imports neither FastAPI nor FastStream.

A `request_id` the collector does not know yet may still arrive: the model server batches its telemetry.
So an unknown id is waited for, a bounded time, and then answered 404, the same answer as a request of
another tenant, so that no caller learns whether an id exists elsewhere. A product app that gets 404
right after a response may retry later with the same `feedback_id`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, datetime

from llmops_common.dataset_rows import PROMPT_FORMAT_KEY, TEMPLATED_PROMPT
from llmops_common.errors import ConflictError, LlmopsError, NotFoundError, PayloadTooLargeError
from llmops_common.events import FeedbackSubmittedV1, InferenceCompletedV1, RecordSubmittedV1
from llmops_common.kafka.publisher import EventPublisher

from .keyed_lock import KeyedLock
from .schemas import BatchItemOut, FeedbackIn, FeedbackOut
from .settings import Settings
from .store import FeedbackStore, KnownRequest, StoredFeedback

SOURCE = "feedback_collector"
POLL_SECONDS = 0.05


def feedback_dataset(model_name: str) -> str:
    """The dataset that a deployed model's corrections feed."""
    return f"feedback-{model_name}"


def known_request(event: InferenceCompletedV1) -> KnownRequest:
    """What the collector keeps of a telemetry event."""
    return KnownRequest(
        request_id=event.request_id,
        tenant=event.tenant,
        model_name=event.model_name,
        adapter_version=event.adapter_version,
        text_capture=event.text_capture,
        prompt_text=event.prompt_text,
        completion_text=event.completion_text,
    )


class FeedbackCollector:
    """Accepts feedback of a tenant, idempotently by `feedback_id`, and publishes what it derives."""

    def __init__(self, store: FeedbackStore, publisher: EventPublisher, settings: Settings) -> None:
        self._store = store
        self._publisher = publisher
        self._settings = settings
        self._in_flight = KeyedLock()

    def learn(self, events: list[InferenceCompletedV1]) -> None:
        """Keeps the requests of a batch of telemetry, for the tenant check and the join."""
        self._store.remember_requests([known_request(event) for event in events])

    async def submit(self, tenant: str, body: FeedbackIn) -> FeedbackOut:
        """Publishes one feedback (and its example); a retry with the same `feedback_id` answers the same."""
        self._check_sizes(body)
        feedback_id = body.feedback_id or uuid.uuid4().hex
        # Two retries racing each other must not both publish: one id is handled at a time.
        async with self._in_flight.hold((tenant, feedback_id)):
            return await self._submit_once(tenant, feedback_id, body)

    async def _submit_once(self, tenant: str, feedback_id: str, body: FeedbackIn) -> FeedbackOut:
        body_sha256 = hashlib.sha256(body.model_dump_json(exclude={"feedback_id"}).encode()).hexdigest()
        earlier = self._store.feedback(tenant, feedback_id)
        if earlier is not None:
            if earlier.body_sha256 != body_sha256:
                raise ConflictError(
                    "this feedback_id was used for another feedback", detail={"feedback_id": feedback_id}
                )
            return FeedbackOut.model_validate_json(earlier.response_json)
        request = await self._request_of(tenant, body.request_id)
        event = await self._publish(tenant, feedback_id, body, request)
        answer = FeedbackOut.of(event)
        self._store.remember_feedback(tenant, feedback_id, StoredFeedback(body_sha256, answer.model_dump_json()))
        return answer

    async def submit_batch(self, tenant: str, items: list[FeedbackIn]) -> list[BatchItemOut]:
        """Each item on its own: one refused item does not refuse the others."""
        results: list[BatchItemOut] = []
        for item in items:
            try:
                results.append(BatchItemOut(status=202, feedback=await self.submit(tenant, item)))
            except LlmopsError as error:
                results.append(
                    BatchItemOut(
                        status=error.status_code,
                        error={"code": error.code, "message": error.message, "detail": error.detail},
                    )
                )
        return results

    def _check_sizes(self, body: FeedbackIn) -> None:
        limit = self._settings.feedback_max_text_chars
        texts = {"comment": body.comment, "correction": body.correction, "tags": "".join(body.tags)}
        for field, text in texts.items():
            if text is not None and len(text) > limit:
                raise PayloadTooLargeError(f"`{field}` is over {limit} characters", detail={"limit_chars": limit})

    async def _request_of(self, tenant: str, request_id: str) -> KnownRequest:
        # Waits for telemetry still in flight; another tenant's request reads exactly like an unknown one.
        deadline = time.monotonic() + self._settings.feedback_unknown_request_wait_seconds
        while True:
            request = self._store.request(request_id)
            if request is not None and request.tenant == tenant:
                return request
            if request is not None or time.monotonic() >= deadline:
                raise NotFoundError("no such request", detail={"request_id": request_id})
            await asyncio.sleep(POLL_SECONDS)

    async def _publish(
        self, tenant: str, feedback_id: str, body: FeedbackIn, request: KnownRequest
    ) -> FeedbackSubmittedV1:
        outcome, record_id = None, None
        if body.correction is not None:
            if request.prompt_text is None:
                outcome = "request_text_not_captured"
            else:
                record = correction_example(tenant, feedback_id, body.correction, request)
                await self._publisher.publish(record)
                outcome, record_id = "example_published", record.record_id
        event = FeedbackSubmittedV1(
            feedback_id=feedback_id,
            request_id=body.request_id,
            tenant=tenant,
            model_name=request.model_name,
            adapter_version=request.adapter_version,
            score=body.score,
            score_kind=body.score_kind,
            label=body.label,
            comment=body.comment,
            tags=body.tags,
            correction=body.correction,
            submitted_at=datetime.now(UTC),
            correction_outcome=outcome,
            example_record_id=record_id,
        )
        await self._publisher.publish(event)
        return event


def correction_example(tenant: str, feedback_id: str, correction: str, request: KnownRequest) -> RecordSubmittedV1:
    """The training pair for a correction: the original prompt and the answer the model should have given."""
    return RecordSubmittedV1(
        record_id=f"feedback:{tenant}:{feedback_id}",
        tenant=tenant,
        source=f"{SOURCE}:{request.model_name}",
        kind="example",
        dataset=feedback_dataset(request.model_name),
        prompt=request.prompt_text,
        completion=correction,
        metadata={
            "request_id": request.request_id,
            "feedback_id": feedback_id,
            "model_name": request.model_name,
            "adapter_version": request.adapter_version or "",
            "text_capture": request.text_capture,
            "original_completion": request.completion_text or "",
            # The captured prompt is the server's templated text; training must not template it again.
            PROMPT_FORMAT_KEY: TEMPLATED_PROMPT,
        },
    )
