"""Which models the detectors look at, and each one's current and reference windows.

A deployed model is one whose last lifecycle event is not a retirement, or one that served traffic in
the current window (a base model served without lifecycle events). Its reference window starts at its
last promotion or rollback, the state it was judged good in; without one it trails the current window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from llmops_common.storage.telemetry import TelemetryStore

from .detector_settings import DetectionSettings
from .measurements import Limit, Measurement, Query, Scope, Window

_LIFECYCLE = """
SELECT
    model_name,
    argMax(action, changed_at) AS last_action,
    argMax(adapter_version, changed_at) AS adapter_version,
    maxIf(changed_at, action IN ('promoted', 'rolled_back')) AS promoted_at,
    countIf(action IN ('promoted', 'rolled_back')) AS promotions
FROM model_lifecycle
WHERE changed_at < {now:DateTime64(3)}
GROUP BY model_name
"""

_SERVING = """
SELECT DISTINCT model_name FROM inference_minute
WHERE minute >= {start:DateTime} AND minute <= {end:DateTime}
"""


@dataclass(frozen=True)
class ModelTarget:
    """One deployed model at one detector run."""

    model_name: str
    adapter_version: str | None
    current: Window
    reference: Window | None
    """None when there is nothing to compare with yet (a promotion inside the current window)."""

    def measurement(
        self,
        detector: str,
        metric: str,
        value: float,
        *,
        query: Query,
        message: str,
        limit: Limit | None = None,
        significant: bool = True,
        current: Window | None = None,
        reference: Window | None = None,
    ) -> Measurement:
        """A measurement of this model over its windows (or the ones given)."""
        return Measurement(
            detector,
            metric,
            Scope(model_name=self.model_name, adapter_version=self.adapter_version),
            value,
            current or self.current,
            reference,
            query,
            message,
            limit,
            significant,
        )


def reference_window(current: Window, promoted_at: datetime | None, settings: DetectionSettings) -> Window | None:
    """The configured baseline; else the reference length from the last promotion, ending no later than
    the current window starts; else the same length before the current window, ending at the start of
    its hour, so that the reference stays put (and cached) for an hour rather than moving every run."""
    baseline = settings.baseline()
    if baseline is not None:
        return Window(*baseline)
    length = timedelta(seconds=settings.reference_window_seconds)
    if promoted_at is not None:
        end = min(promoted_at + length, current.start)
        return Window(promoted_at, end) if end > promoted_at else None
    end = current.start.replace(minute=0, second=0, microsecond=0)
    return Window(end - length, end)


def model_targets(store: TelemetryStore, now: datetime, settings: DetectionSettings) -> list[ModelTarget]:
    """Every deployed model at `now`, with its windows, in name order."""
    current = Window(now - timedelta(seconds=settings.current_window_seconds), now)
    lifecycle = {row["model_name"]: row for row in store.query(_LIFECYCLE, {"now": now})}
    serving = {
        row["model_name"]
        for row in store.query(
            _SERVING, {"start": current.start.replace(second=0, microsecond=0), "end": now.replace(microsecond=0)}
        )
    }
    names = serving | {name for name, row in lifecycle.items() if row["last_action"] != "retired"}
    targets = []
    for name in sorted(names):
        row = lifecycle.get(name)
        promoted_at = _utc(row["promoted_at"]) if row and int(row["promotions"]) else None
        adapter = (row["adapter_version"] or None) if row else None
        targets.append(ModelTarget(name, adapter, current, reference_window(current, promoted_at, settings)))
    return targets


def _utc(text: str) -> datetime:
    """A DateTime64 from JSONEachRow (`2026-11-22 12:00:00.000`, in the session's UTC)."""
    return datetime.fromisoformat(text + "+00:00")
