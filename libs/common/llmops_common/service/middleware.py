"""Per-request work every service does: join the caller's trace and count the request.

A plain ASGI middleware rather than `@app.middleware("http")`: Starlette's `BaseHTTPMiddleware` runs
each request in an extra task with memory streams, which costs the model server's gateway time on
every request and every streamed chunk.
"""

from __future__ import annotations

import time

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..tracing import TraceContext, current_trace


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
        self.observe_scope(request.scope, status, seconds)

    def observe_scope(self, scope: Scope, status: int, seconds: float) -> None:
        """Records one served request from its ASGI scope."""
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        self.requests.labels(template, scope["method"], str(status)).inc()
        self.seconds.labels(template, scope["method"]).observe(seconds)


class TraceAndMeasure:
    """Continues the caller's W3C trace (or starts one), echoes it back, and records the request."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        traceparent = next((value for name, value in scope["headers"] if name == b"traceparent"), None)
        incoming = TraceContext.parse(traceparent.decode("latin-1") if traceparent else None)
        trace = incoming.child() if incoming else TraceContext.new_root()
        started = time.perf_counter()
        status = 500

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"traceparent", trace.header().encode())]
            await send(message)

        token = current_trace.set(trace)
        try:
            await self._app(scope, receive, send_traced)
        finally:
            current_trace.reset(token)
            metrics: HttpMetrics | None = scope.get("state", {}).get("http_metrics")
            if metrics is not None:
                metrics.observe_scope(scope, status, time.perf_counter() - started)
