"""The collector's logic: checks feedback against the requests it learned, publishes it, and turns
corrections into training examples. It imports neither FastAPI nor FastStream.

A `request_id` the collector does not know yet may still arrive: the model server batches its telemetry.
So an unknown id is waited for, a bounded time, and then answered 404, the same answer as a request of
another tenant, so that no caller learns whether an id exists elsewhere. A product app that gets 404
right after a response may retry later with the same `feedback_id`. Another tenant's request is
waited for just as long as an unknown one, so that the time to the answer tells nothing either.
A feedback without a `feedback_id` is named after its content: the same body on the same request is
one feedback, so a client's blind retry is not a second one. A key limited to some models
(`llmops keys create --model`) sees only the requests of those models: feedback trains the model it
is about, so a key that may not call a model may not teach it either.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime

from llmops_common.auth.keyring import Principal
from llmops_common.dataset_rows import PROMPT_FORMAT_KEY, TEMPLATED_PROMPT
from llmops_common.errors import ConflictError, LlmopsError, NotFoundError, PayloadTooLargeError
from llmops_common.events import FeedbackSubmittedV1, InferenceCompletedV1, RecordSubmittedV1
from llmops_common.kafka.publisher import EventPublisher

from .keyed_lock import KeyedLock
from .outbox import FeedbackIntent, publish_intent
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

    async def submit(self, principal: Principal, body: FeedbackIn) -> FeedbackOut:
        """Publishes one feedback (and its example); a retry with the same `feedback_id` answers the same."""
        self._check_sizes(body)
        feedback_id = body.feedback_id or content_feedback_id(principal.tenant, body)
        # Two retries racing each other must not both publish: one id is handled at a time.
        async with self._in_flight.hold((principal.tenant, feedback_id)):
            return await self._submit_once(principal, feedback_id, body)

    async def _submit_once(self, principal: Principal, feedback_id: str, body: FeedbackIn) -> FeedbackOut:
        tenant = principal.tenant
        body_sha256 = body_digest(body)
        earlier = self._store.feedback(tenant, feedback_id)
        if earlier is not None:
            _check_same_body(earlier.body_sha256, body_sha256, feedback_id)
            return FeedbackOut.model_validate_json(earlier.response_json)
        stored_intent = self._store.intent(tenant, feedback_id)
        if stored_intent is not None:  # an attempt that stopped after building, perhaps after publishing
            _check_same_body(stored_intent.body_sha256, body_sha256, feedback_id)
            intent = FeedbackIntent.of(stored_intent)
        else:
            request = await self._request_of(principal, body.request_id)
            intent = self._intent(tenant, feedback_id, body, body_sha256, request)
            self._store.record_intent(tenant, feedback_id, intent.stored())
        return await self._publish(tenant, feedback_id, intent)

    async def finish_interrupted(self) -> int:
        """Publishes each feedback whose attempt stopped after writing its intent down, as the client's
        retry would; returns how many. Written down is accepted: the client may never retry."""
        finished = 0
        for tenant, feedback_id in self._store.intent_keys():
            async with self._in_flight.hold((tenant, feedback_id)):
                stored_intent = self._store.intent(tenant, feedback_id)
                if stored_intent is None:
                    continue  # a retry finished it meanwhile
                await self._publish(tenant, feedback_id, FeedbackIntent.of(stored_intent))
                finished += 1
        return finished

    async def _publish(self, tenant: str, feedback_id: str, intent: FeedbackIntent) -> FeedbackOut:
        await publish_intent(self._publisher, intent)
        answer = FeedbackOut.of(intent.event)
        self._store.remember_feedback(tenant, feedback_id, StoredFeedback(intent.body_sha256, answer.model_dump_json()))
        return answer

    async def submit_batch(self, principal: Principal, items: list[FeedbackIn]) -> list[BatchItemOut]:
        """Each item on its own: one refused item does not refuse the others."""
        results: list[BatchItemOut] = []
        for item in items:
            try:
                results.append(BatchItemOut(status=202, feedback=await self.submit(principal, item)))
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

    async def _request_of(self, principal: Principal, request_id: str) -> KnownRequest:
        # Waits for telemetry still in flight; another tenant's request, or one of a model the key may not
        # call, reads exactly like an unknown one.
        deadline = time.monotonic() + self._settings.feedback_unknown_request_wait_seconds
        while True:
            request = self._store.request(request_id)
            if request is not None and request.tenant == principal.tenant and principal.may_call(request.model_name):
                return request
            # A request the caller may not see is waited out like an unknown one: an earlier answer
            # would tell that the id exists elsewhere.
            if time.monotonic() >= deadline:
                raise NotFoundError("no such request", detail={"request_id": request_id})
            await asyncio.sleep(POLL_SECONDS)

    def _intent(
        self, tenant: str, feedback_id: str, body: FeedbackIn, body_sha256: str, request: KnownRequest
    ) -> FeedbackIntent:
        outcome, record = None, None
        if body.correction is not None:
            if request.prompt_text is None:
                outcome = "request_text_not_captured"
            else:
                record = correction_example(tenant, feedback_id, body.correction, request)
                outcome = "example_published"
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
            example_record_id=record.record_id if record is not None else None,
        )
        return FeedbackIntent(body_sha256, event, record)


def body_digest(body: FeedbackIn) -> str:
    """The sha256 of what a feedback says, its id aside: a reused id must say the same."""
    return hashlib.sha256(body.model_dump_json(exclude={"feedback_id"}).encode()).hexdigest()


def content_feedback_id(tenant: str, body: FeedbackIn) -> str:
    """The id of a feedback sent without one: the same body on the same request is the same feedback."""
    return hashlib.sha256(f"{tenant}\n{body_digest(body)}".encode()).hexdigest()[:32]


def _check_same_body(stored_sha256: str, body_sha256: str, feedback_id: str) -> None:
    if stored_sha256 != body_sha256:
        raise ConflictError("this feedback_id was used for another feedback", detail={"feedback_id": feedback_id})


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
