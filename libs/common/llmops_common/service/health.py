"""`/healthz` (the process lives), `/readyz` (its broker and stores answer) and Prometheus `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .runtime import ServiceRuntime

router = APIRouter(tags=["health"])


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.state.runtime
    return runtime


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, str]:
    """Liveness: the process serves requests."""
    return {"status": "ok", "service": _runtime(request).settings.service_name}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when every dependency answers, else 503 naming the ones that do not."""
    runtime = _runtime(request)
    checks = await runtime.readiness.run()
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not_ready",
        "service": runtime.settings.service_name,
        "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)  # documents the text format it answers in
async def metrics(request: Request) -> Response:
    """The service's metrics in the Prometheus text format."""
    return Response(generate_latest(_runtime(request).registry), media_type=CONTENT_TYPE_LATEST)
