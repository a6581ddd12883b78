"""Posts alerts to a Slack-compatible incoming webhook, with a bounded number of attempts."""

from __future__ import annotations

import asyncio
import logging

import httpx

from llmops_common.events import AlertFiredV1, AlertResolvedV1

from .detector_settings import WebhookSettings

log = logging.getLogger(__name__)

_COLOURS = {"info": "#439FE0", "warning": "#FFA500", "critical": "#D00000", "resolved": "#2EB67D"}


def slack_message(event: AlertFiredV1 | AlertResolvedV1) -> dict[str, object]:
    """Slack's incoming-webhook JSON: a `text` line, and one attachment with the figures."""
    scope = event.scope
    where = ", ".join(
        f"{name}={value}"
        for name, value in (("tenant", scope.tenant), ("model", scope.model_name), ("adapter", scope.adapter_version))
        if value
    )
    if isinstance(event, AlertFiredV1):
        state, colour, headline = event.severity.upper(), _COLOURS[event.severity], event.message
    else:
        state, colour, headline = "RESOLVED", _COLOURS["resolved"], f"{event.detector} is back to normal"
    fields = [
        {"title": "value", "value": f"{event.value:.4g}", "short": True},
        {"title": "threshold", "value": f"{event.threshold:.4g}", "short": True},
        {
            "title": "window",
            "value": f"{event.current_window.start:%Y-%m-%d %H:%M} to {event.current_window.end:%H:%M} UTC",
        },
    ]
    attachment: dict[str, object] = {"color": colour, "title": event.alert_id, "fields": fields}
    if event.query_url:
        attachment["title_link"] = event.query_url
    return {"text": f"[{state}] {event.detector} ({where or 'all'}): {headline}", "attachments": [attachment]}


class SlackWebhook:
    """Posts each alert; retries a failed post (a network error, 429 or 5xx) up to `attempts` times."""

    def __init__(self, settings: WebhookSettings, client: httpx.AsyncClient | None = None) -> None:
        if settings.url is None:
            raise ValueError("a webhook needs a url")
        self._url = settings.url
        self._settings = settings
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)

    async def post(self, event: AlertFiredV1 | AlertResolvedV1) -> bool:
        """Whether the webhook took the alert. Failure is logged, never raised: Kafka has the alert anyway."""
        body = slack_message(event)
        for attempt in range(1, self._settings.attempts + 1):
            try:
                response = await self._client.post(self._url, json=body)
            except httpx.HTTPError as error:
                reason = repr(error)
            else:
                if response.is_success:
                    return True
                reason = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break  # the hook refuses this body; sending it again cannot help
            if attempt < self._settings.attempts:
                await asyncio.sleep(self._settings.backoff_seconds * 2 ** (attempt - 1))
        log.warning("alert webhook gave up on %s after %d attempt(s): %s", event.alert_id, attempt, reason)
        return False

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self._client.aclose()
