"""Readiness checks: sync or async, and a raising or hanging check counts as not ready."""

from __future__ import annotations

import asyncio

from llmops_common.service.readiness import ReadinessChecks


async def test_each_check_reports_on_its_own() -> None:
    async def hangs() -> bool:
        await asyncio.sleep(10)
        return True

    def raises() -> bool:
        raise ConnectionError("refused")

    async def answers() -> bool:
        return True

    checks = ReadinessChecks(timeout_seconds=0.05)
    checks.add("kafka", answers)
    checks.add("clickhouse", raises)
    checks.add("qdrant", hangs)
    checks.add("artifacts", lambda: True)
    assert await checks.run() == {"kafka": True, "clickhouse": False, "qdrant": False, "artifacts": True}


async def test_no_checks_means_ready() -> None:
    assert await ReadinessChecks().run() == {}
