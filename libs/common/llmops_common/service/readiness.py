"""Named readiness checks (the broker, each store) that `/readyz` runs."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

Check = Callable[[], Awaitable[bool] | bool]
log = logging.getLogger(__name__)


class ReadinessChecks:
    """What must answer before the service takes traffic; each service adds its own stores."""

    def __init__(self, timeout_seconds: float = 2.0) -> None:
        self._checks: dict[str, Check] = {}
        self._timeout = timeout_seconds

    def add(self, name: str, check: Check) -> None:
        """Registers `check`; it returns whether `name` is usable right now."""
        self._checks[name] = check

    async def run(self) -> dict[str, bool]:
        """Runs every check at once; a check that raises or takes too long counts as not ready."""
        results = await asyncio.gather(*(self._run_one(name, check) for name, check in self._checks.items()))
        return dict(zip(self._checks, results, strict=True))

    async def _run_one(self, name: str, check: Check) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                outcome = check()
                if inspect.isawaitable(outcome):
                    outcome = await outcome
                return bool(outcome)
        except Exception as error:
            log.warning("readiness check %s failed: %r", name, error)
            return False
