"""Asks every service's `/readyz` how it is, for `llmops up` and `llmops status`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from ..settings import SERVICE_NAMES, PlatformSettings

Health = Literal["ready", "not_ready", "down"]


@dataclass(frozen=True)
class ServiceHealth:
    """One service as a client sees it."""

    name: str
    url: str
    health: Health
    failing: tuple[str, ...] = ()


def probe_service(client: httpx.Client, name: str, url: str) -> ServiceHealth:
    """`ready` on 200, `not_ready` (with the failing checks) on 503, `down` when nothing answers."""
    try:
        response = client.get(f"{url}/readyz")
    except httpx.HTTPError:
        return ServiceHealth(name, url, "down")
    if response.status_code == 200:
        return ServiceHealth(name, url, "ready")
    checks: dict[str, str] = response.json().get("checks", {}) if _is_json(response) else {}
    return ServiceHealth(name, url, "not_ready", tuple(n for n, state in checks.items() if state != "ok"))


def probe_all(settings: PlatformSettings, timeout_seconds: float = 3.0) -> list[ServiceHealth]:
    """The health of every service, in port order."""
    with httpx.Client(timeout=timeout_seconds) as client:
        return [probe_service(client, name, settings.url_of(name)) for name in SERVICE_NAMES]


def _is_json(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")
