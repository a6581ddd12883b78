"""Serves chat and text completions: checks, prepares, queues, generates, and records every request.

Every request that got past authentication ends in exactly one `InferenceCompletedV1`, success or
failure, recorded in `_finish`; the telemetry buffer never blocks it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import ValidationError

from llmops_common.engines.base import GenerationRequest, InferenceEngine, SamplingParams
from llmops_common.engines.errors import PromptTooLongError

from .admission import Admission
from .call_record import Call, completed_event
from .errors import BadRequestError, GenerationFailedError, ModelNotFoundError, TenantBlockedError
from .generation import ChoiceProgress, Progress, generate_all, stream_all
from .lifecycle import DeploymentController
from .metrics import ServerMetrics
from .preparation import PromptPreparer
from .protocol import ChatCompletionRequest, CompletionRequest
from .rate_limits import KeyLimits
from .request_validation import RequestInvalidError, validation_message
from .responses import DONE, ChunkWriter, full_response
from .settings import Settings
from .telemetry import TelemetryBuffer
from .tenant_gate import TenantGate

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the serving path uses, built once by the app."""

    settings: Settings
    engine: InferenceEngine
    deployments: DeploymentController
    preparer: PromptPreparer
    limits: KeyLimits
    admission: Admission
    telemetry: TelemetryBuffer
    metrics: ServerMetrics
    tenant_gate: TenantGate


class InferenceService:
    """Chat and text completions, whole or streamed."""

    def __init__(self, services: Services) -> None:
        self._s = services
        self.base_model = services.deployments.table.base_model

    async def serve(
        self, call: Call, raw_body: bytes, session_id: str | None
    ) -> dict[str, object] | AsyncIterator[bytes]:
        """A whole response, or for `stream: true` the stream of Server-Sent Events.

        Whatever keeps the request from being served raises here, before any byte is sent, as a
        platform error that is recorded like every outcome.
        """
        try:
            body = await self._start(call, raw_body, session_id)
        except BaseException as error:
            self._finish(call, error)
            raise
        if body.stream:
            return self._stream(call, body)
        return await self._complete(call, body)

    async def _complete(self, call: Call, body: ChatCompletionRequest | CompletionRequest) -> dict[str, object]:
        try:
            requests = self._engine_requests(call, body.n)
            progress = self._progress(call)
            try:
                await generate_all(self._s.engine, requests, progress)
            except Exception as error:
                refused = _refused_prompt(call, error)
                raise refused or GenerationFailedError(f"generation failed: {type(error).__name__}: {error}") from error
            assert call.prepared is not None  # noqa: S101 - prepared by `_start`
            response = full_response(
                call.kind,
                _response_id(call),
                int(call.started_at.timestamp()),
                call.served(self.base_model),
                call.prepared,
                progress,
            )
        except BaseException as error:
            self._finish(call, error)
            raise
        self._finish(call, None)
        return response

    async def _stream(self, call: Call, body: ChatCompletionRequest | CompletionRequest) -> AsyncIterator[bytes]:
        writer = ChunkWriter(
            call.kind,
            _response_id(call),
            int(call.started_at.timestamp()),
            call.served(self.base_model),
            body.include_usage(),
        )
        outcome: BaseException | None = None
        progress = self._progress(call)
        try:
            requests = self._engine_requests(call, body.n)
            yield writer.opening(len(requests), call.prepared)  # type: ignore[arg-type]
            async for index, delta in stream_all(self._s.engine, requests, progress):
                if delta.text or delta.finish_reason is not None:
                    yield writer.delta(index, delta.text, delta.finish_reason)
            if body.include_usage():
                yield writer.usage(progress)
            yield DONE
        except Exception as error:
            failed = GenerationFailedError(f"generation failed: {type(error).__name__}")
            outcome = _refused_prompt(call, error) or failed
            yield writer.error(outcome.status_code, outcome.message, outcome.code)
        except BaseException as error:  # the client went away: GeneratorExit or a cancellation
            outcome = error
            raise
        finally:
            self._finish(call, outcome)

    async def _start(
        self, call: Call, raw_body: bytes, session_id: str | None
    ) -> ChatCompletionRequest | CompletionRequest:
        model_type = ChatCompletionRequest if call.kind == "chat" else CompletionRequest
        try:
            body = model_type.model_validate_json(raw_body)
        except ValidationError as error:
            raise RequestInvalidError(validation_message(error)) from error
        call.model = body.model
        if (refusal := self._s.tenant_gate.refusal(call.principal.tenant, body.model)) is not None:
            raise TenantBlockedError(refusal.reason, retry_after=refusal.retry_after)
        table = self._s.deployments.table
        route = table.route(body.model, body.user or session_id or call.request_id)
        # Another tenant's model and one the key may not call answer as an unknown one: none is revealed.
        if route is None or not table.serves(body.model, call.principal):
            raise ModelNotFoundError(f"the model {body.model!r} does not exist or this key may not call it")
        call.route = route
        if isinstance(body, ChatCompletionRequest):
            call.prepared = await self._s.preparer.chat(body, call.principal, call.request_id)
        else:
            call.prepared = await self._s.preparer.completion(body, call.principal, call.request_id)
        if self._s.settings.log_prompts:
            # Off by default: prompts hold customer data, and no other log line carries them.
            log.info("request %s prompts: %r", call.request_id, call.prepared.prompts)
        prompt_tokens = sum(call.prepared.prompt_tokens)
        # One engine sequence per prompt and choice; at most, each prompt counts once (as usage counts it)
        # and each sequence its max_tokens.
        sequences = len(call.prepared.prompts) * body.n
        most_tokens = prompt_tokens + sequences * call.prepared.sampling.max_tokens
        call.reservation = self._s.limits.admit(call.principal, prompt_tokens, most_tokens)
        call.queue_seconds = await self._s.admission.enter(sequences)
        call.slots = sequences
        # From here `_finish` gives the slots and the adapter lease back.
        self._s.deployments.lease(route.served)
        call.progress = Progress(
            [ChoiceProgress(i * body.n + j, i) for i in range(len(call.prepared.prompts)) for j in range(body.n)]
        )
        return body

    def _engine_requests(self, call: Call, n: int) -> list[GenerationRequest]:
        prepared, route = call.prepared, call.route
        assert prepared is not None  # noqa: S101 - prepared by `_start`
        assert route is not None  # noqa: S101 - routed by `_start`
        requests = []
        for prompt_index, prompt in enumerate(prepared.prompts):
            for choice in range(n):
                sampling = prepared.sampling
                if sampling.seed is not None and n > 1:
                    # One seed for all choices would make them all the same.
                    sampling = SamplingParams(**{**sampling.__dict__, "seed": sampling.seed + choice})
                requests.append(
                    GenerationRequest(
                        f"{call.request_id}-{prompt_index * n + choice}", prompt, sampling, route.served.adapter
                    )
                )
        return requests

    def _progress(self, call: Call) -> Progress:
        assert call.progress is not None  # noqa: S101 - set by `_start`
        call.progress.started = time.perf_counter()
        return call.progress

    def abandon(self, call: Call) -> None:
        """Ends a call whose stream was never read (the client left before it began)."""
        self._finish(call, GeneratorExit())

    def _finish(self, call: Call, error: BaseException | None) -> None:
        """Gives back what the call held and records its telemetry and metrics, once; never raises."""
        if call.finished:
            return
        call.finished = True
        try:
            if call.progress is not None:
                self._s.admission.leave(call.slots)
                assert call.route is not None  # noqa: S101 - a slot is only taken once routed
                self._s.deployments.release(call.route.served)
            event = completed_event(call, error, self.base_model, self._s.settings)
            if call.reservation is not None:
                # A request that never reached the engine used no tokens.
                used = event.prompt_tokens + event.completion_tokens if call.progress is not None else 0
                self._s.limits.settle(call.reservation, used)
            self._s.metrics.observe(event, routed=call.route is not None)
            self._s.telemetry.record(event)
        except Exception:
            log.exception("recording request %s failed", call.request_id)


def _refused_prompt(call: Call, error: Exception) -> BadRequestError | None:
    """The 400 for a prompt the model's context cannot hold (the engine's check, maybe in a task group)."""
    causes = error.exceptions if isinstance(error, ExceptionGroup) else (error,)
    too_long = next((cause for cause in causes if isinstance(cause, PromptTooLongError)), None)
    if too_long is None:
        return None
    return BadRequestError(str(too_long), param="messages" if call.kind == "chat" else "prompt")


def _response_id(call: Call) -> str:
    return ("chatcmpl-" if call.kind == "chat" else "cmpl-") + call.request_id
