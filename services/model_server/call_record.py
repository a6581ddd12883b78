"""One request as it goes through the server, and the `InferenceCompletedV1` it ends in."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from llmops_common.auth.keyring import Principal
from llmops_common.errors import LlmopsError
from llmops_common.events import InferenceCompletedV1

from .deployments import Route
from .generation import Progress
from .preparation import Kind, PreparedPrompts
from .protocol import Served
from .rate_limits import TokenReservation
from .settings import Settings
from .text_capture import captured_text, request_cost

CLIENT_CLOSED = 499
"""The status telemetry records for a client that went away mid-stream (nginx's convention)."""


@dataclass
class Call:
    """One request as it goes through the server, for the response and its telemetry."""

    kind: Kind
    request_id: str
    principal: Principal
    model: str = "unknown"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    route: Route | None = None
    prepared: PreparedPrompts | None = None
    progress: Progress | None = None
    slots: int = 0
    """The admission slots it holds: one per prompt and choice."""
    reservation: TokenReservation | None = None
    """Its tokens in the key's minute, reserved at admission and settled when it ends."""
    queue_seconds: float = 0.0
    finished: bool = False

    def served(self, base_model: str) -> Served:
        assert self.route is not None  # noqa: S101 - served only once routed
        return Served(
            model=self.model,
            base_model=base_model,
            adapter_version=self.route.served.version,
            canary_arm=self.route.arm,
            prompt_name=self.prepared.prompt_name if self.prepared else None,
            prompt_version=self.prepared.prompt_version if self.prepared else None,
        )


class Outcome(NamedTuple):
    """How a request ended, as telemetry records it."""

    status: Literal["ok", "error"]
    http_status: int
    error_code: str | None
    finish_reason: Literal["stop", "length", "error", "cancelled"]


def outcome_of(error: BaseException | None, progress: Progress | None) -> Outcome:
    """The outcome of a call that ended with `error` (None: served)."""
    if error is None:
        reasons = {c.finish_reason for c in progress.choices} if progress else set()
        return Outcome("ok", 200, None, "length" if "length" in reasons else "stop")
    if isinstance(error, LlmopsError):
        return Outcome("error", error.status_code, error.code, "error")
    if isinstance(error, Exception):
        return Outcome("error", 500, "internal_error", "error")
    return Outcome("error", CLIENT_CLOSED, "client_disconnected", "cancelled")


def completed_event(
    call: Call, error: BaseException | None, base_model: str, settings: Settings
) -> InferenceCompletedV1:
    """The telemetry event of a call that has ended."""
    now = time.perf_counter()
    progress, prepared, route = call.progress, call.prepared, call.route
    prompt_tokens = progress.prompt_tokens if progress else sum(prepared.prompt_tokens) if prepared else 0
    completion_tokens = progress.completion_tokens if progress else 0
    outcome = outcome_of(error, progress)
    ttft = (progress.first_token_at - call.started) if progress and progress.first_token_at else None
    generating = (now - progress.started) if progress else 0.0
    capture = settings.text_capture
    return InferenceCompletedV1(
        request_id=call.request_id,
        tenant=call.principal.tenant,
        key_id=call.principal.key_id,
        model_name=call.model[:256],
        base_model=base_model,
        adapter_version=route.served.version if route else None,
        canary_arm=route.arm if route else None,
        prompt_name=prepared.prompt_name if prepared else None,
        prompt_version=prepared.prompt_version if prepared else None,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        time_to_first_token_ms=ttft * 1000 if ttft is not None else None,
        latency_ms=(now - call.started) * 1000,
        tokens_per_second=completion_tokens / generating if completion_tokens and generating > 0 else None,
        queue_time_ms=call.queue_seconds * 1000,
        cost_usd=request_cost(settings.prices, call.model, base_model, prompt_tokens, completion_tokens),
        finish_reason=outcome.finish_reason,
        status=outcome.status,
        error_code=outcome.error_code,
        http_status=outcome.http_status,
        started_at=call.started_at,
        prompt_text=captured_text("\n".join(prepared.prompts), capture) if prepared else None,
        completion_text=(
            captured_text("\n".join("".join(c.text) for c in progress.choices), capture) if progress else None
        ),
        text_capture=capture,
    )
