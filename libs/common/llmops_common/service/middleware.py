"""Per-request work every service does: join the caller's trace and count the request."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram

from ..tracing import TraceContext, current_trace

NextCall = Callable[[Request], Awaitable[Response]]


class HttpMetrics:
    """Request counts and latencies by route template, so paths with ids do not explode the labels."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "llmops_http_requests", "HTTP requests served", ["route", "method", "status"], registry=registry
        )
        self.seconds = Histogram(
            "llmops_http_request_seconds", "HTTP request latency", ["route", "method"], registry=registry
        )

    def observe(self, request: Request, status: int, seconds: float) -> None:
        """Records one served request."""
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        self.requests.labels(template, request.method, str(status)).inc()
        self.seconds.labels(template, request.method).observe(seconds)


async def trace_and_measure(request: Request, call_next: NextCall) -> Response:
    """Continues the caller's W3C trace (or starts one), echoes it back, and records the request."""
    incoming = TraceContext.parse(request.headers.get("traceparent"))
    trace = incoming.child() if incoming else TraceContext.new_root()
    token = current_trace.set(trace)
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        current_trace.reset(token)
    response.headers["traceparent"] = trace.header()
    metrics: HttpMetrics | None = getattr(request.state, "http_metrics", None)
    if metrics is not None:
        metrics.observe(request, response.status_code, time.perf_counter() - started)
    return response
