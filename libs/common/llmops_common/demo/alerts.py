"""The monitor sees traffic shift (a drift alert, for operators) and a budget spent
(a cost alert, then the model server refuses the tenant with 429)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.markup import escape
from rich.table import Table

from ..auth.api_keys import issue_key
from .feedback import in_parallel, publish
from .scenario import ASSISTANT, BUDGET_USD, DRIFT_WINDOW_SECONDS, PREMIUM
from .session import Session, expect, poll_until

ALERT_TIMEOUT = 240.0
SHIFTED_REQUESTS = 20
PROMPT_DRIFT = "drift.ks_prompt_tokens/"
EMAIL = (
    "Hello support team, I am writing about my order for Atlas which arrived last Tuesday. The box was open, "
    "two of the items were missing, and the invoice lists a product I never ordered. I have tried calling "
    "twice and waited on hold for forty minutes each time. Could you please tell me who handles this, how "
    "long a refund takes, and whether I need to send the damaged parts back? Thank you, a tired customer."
)


async def drift_alert(session: Session) -> None:
    """Users start pasting whole emails: prompts many times longer than before. Once the traffic since
    the promotion is a window old, the drift detector compares the last minute with it and fires."""
    operator_token, operator_key = issue_key("platform-ops", roles=["operator"], issued_by="llmops demo")
    await publish(session, operator_key)
    session.story.say("drift is model-wide, so only operators see it: an operator key was issued for the demo")
    shifted_at = datetime.now(UTC)
    await in_parallel(
        session,
        range(SHIFTED_REQUESTS),
        "long emails instead of one-line questions",
        lambda n: session.ask(ASSISTANT, f"{EMAIL} (case {n})", 24),
    )
    headers = {"Authorization": f"Bearer {operator_token}"}
    params = {"detector": "drift", "model": ASSISTANT}
    waiting = "the reference window fills, then the monitor's verdict"

    def prompt_drift(alerts: list[dict[str, Any]]) -> bool:
        # KS, unlike PSI, fires only on a significant gap: small samples of one distribution do not set it off.
        return any(str(a["alert_id"]).startswith(PROMPT_DRIFT) for a in alerts)

    alerts = await _alerts_within(session, params, headers, waiting, DRIFT_WINDOW_SECONDS, prompt_drift)
    recent = [a for a in alerts if str(a["alert_id"]).startswith(PROMPT_DRIFT) or _fired_at(a) >= shifted_at]
    session.story.show(_alert_table("drift alerts", recent))


def _fired_at(alert: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(alert["fired_at"] or alert["updated_at"]))


async def cost_alert(session: Session) -> None:
    """The premium model costs $100 per 1,000 tokens and the tenant's budget for it is BUDGET_USD a
    month, enforced: one request spends it, the monitor fires a cost alert, and the server says 429."""
    first = await session.ask(PREMIUM, "Where is my order?", 8)
    session.story.say(f"one request of {first.body['usage']['total_tokens']} tokens to {PREMIUM}")
    params = {"detector": "cost", "model": PREMIUM}
    alerts = await _alerts_within(session, params, {}, f"the monitor adds up the spend (budget ${BUDGET_USD:g})", 5)
    session.story.show(_alert_table("cost alerts", alerts))
    refusals: list[httpx.Response] = []

    async def refused() -> bool:
        refusals.append(await session.chat(PREMIUM, "Where is my order?", 8))
        return refusals[-1].status_code == 429

    await poll_until(refused, 60, interval=0.5)
    refusal = refusals[-1]
    error = refusal.json()["error"]
    session.story.say(
        f"the model server now answers [bold red]429[/] {escape(error['code'])}: {escape(error['message'])}"
    )
    other = await session.chat(ASSISTANT, "Where is my order?", 8)
    session.story.say(f"{ASSISTANT}, outside that budget, still answers {other.status_code}")


async def _alerts_within(
    session: Session,
    params: dict[str, str],
    headers: dict[str, str],
    description: str,
    expected_seconds: float,
    enough: Callable[[list[dict[str, Any]]], bool] = bool,
) -> list[dict[str, Any]]:
    """The open alerts that match `params` once `enough` holds of them, waited for with a bar of the time
    they are expected to take."""
    url = session.url("monitor", "/v1/alerts")
    started = time.monotonic()
    with session.story.progress() as progress:
        task = progress.add_task(description, total=expected_seconds)
        while not enough(alerts := expect(await session.http.get(url, params=params, headers=headers), 200)["alerts"]):
            if time.monotonic() - started > ALERT_TIMEOUT:
                raise TimeoutError(f"no {params['detector']} alert within {ALERT_TIMEOUT:.0f} s")
            progress.update(task, completed=min(time.monotonic() - started, expected_seconds))
            await asyncio.sleep(1.0)
        progress.update(task, completed=expected_seconds)
    return list(alerts)


def _alert_table(title: str, alerts: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("alert", "severity", "value", "threshold", "message"):
        table.add_column(column)
    for alert in alerts:
        table.add_row(
            str(alert["alert_id"]),
            str(alert["severity"]),
            f"{alert['value']:.3f}",
            f"{alert['threshold']:g}",
            escape(str(alert["message"])),
        )
    return table
