"""Quality: the mean feedback score's drop and the negative-feedback rate, the share of empty or refused
outputs, and the error rate.

Scores are thumbs (-1, 1) or ratings (1 to 5). A model whose feedback holds any score from 2 up is read
on the rating scale (1 to 5 map to 0 to 1, 1 and 2 are negative), else on the thumbs scale (-1 is 0 and
negative, 1 is 1): a 1 means the best on one scale and the worst on the other.
"""

from __future__ import annotations

from typing import Any

from llmops_common.storage.telemetry import TelemetryStore

from ..detection_targets import ModelTarget
from ..detector_settings import QualitySettings
from ..measurements import Limit, Measurement, Query, Window

FEEDBACK_SQL = """
SELECT
    if(event_time >= {current_start:DateTime64(3)}, 'current', 'reference') AS side,
    count() AS n,
    countIf(score >= 2) AS ratings,
    avg((score + 1) / 2) AS thumbs_mean,
    countIf(score = -1) AS thumbs_negative,
    avg(if(score < 1, 0, (score - 1) / 4)) AS rating_mean,
    countIf(score <= 2) AS rating_negative
FROM feedback
WHERE model_name = {model:String}
    AND ((event_time >= {reference_start:DateTime64(3)} AND event_time < {reference_end:DateTime64(3)})
        OR (event_time >= {current_start:DateTime64(3)} AND event_time < {current_end:DateTime64(3)}))
GROUP BY side
"""

OUTPUTS_SQL = """
SELECT
    count() AS n,
    countIf(status = 'error') AS errors,
    countIf(status = 'ok' AND (completion_tokens = 0
        OR match(ifNull(completion_text, ''), {refusal:String}))) AS empty_or_refused,
    countIf(status = 'ok') AS ok
FROM inference_completed
WHERE model_name = {model:String} AND event_time >= {start:DateTime64(3)} AND event_time < {end:DateTime64(3)}
"""


class QualityDetector:
    """Feedback against the reference window; output and error rates against fixed thresholds."""

    name = "quality"

    def __init__(self, settings: QualitySettings) -> None:
        self._settings = settings

    def measure(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        """Up to four measurements, each when its window holds enough requests or feedback."""
        return self._feedback(store, target) + self._outputs(store, target)

    def _feedback(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        settings = self._settings
        reference_window = target.reference or Window(target.current.start, target.current.start)
        parameters = {
            "model": target.model_name,
            "current_start": target.current.start,
            "current_end": target.current.end,
            "reference_start": reference_window.start,
            "reference_end": reference_window.end,
        }
        sides = {row["side"]: row for row in store.query(FEEDBACK_SQL, parameters)}
        current = sides.get("current")
        if current is None or int(current["n"]) < settings.min_feedback:
            return []
        on_ratings = any(int(row["ratings"]) > 0 for row in sides.values())
        query = Query(FEEDBACK_SQL, parameters)
        negative_rate = _negative(current, on_ratings) / int(current["n"])
        measurements = [
            target.measurement(
                self.name,
                "negative_feedback_rate",
                negative_rate,
                query=query,
                limit=Limit(settings.negative_feedback_rate, settings.negative_feedback_rate_clear),
                message=f"{negative_rate:.0%} of {int(current['n'])} feedback scores are negative",
            )
        ]
        reference = sides.get("reference")
        if reference is not None and int(reference["n"]) >= settings.min_feedback:
            drop = _mean(reference, on_ratings) - _mean(current, on_ratings)
            measurements.append(
                target.measurement(
                    self.name,
                    "feedback_mean_drop",
                    drop,
                    query=query,
                    reference=target.reference,
                    limit=Limit(settings.feedback_mean_drop, settings.feedback_mean_drop_clear),
                    message=f"the mean feedback score fell by {drop:.2f} (0-1 scale) against the reference",
                )
            )
        return measurements

    def _outputs(self, store: TelemetryStore, target: ModelTarget) -> list[Measurement]:
        settings = self._settings
        parameters = {
            "model": target.model_name,
            "start": target.current.start,
            "end": target.current.end,
            "refusal": settings.refusal_pattern,
        }
        row = store.query(OUTPUTS_SQL, parameters)[0]
        requests, ok = int(row["n"]), int(row["ok"])
        if requests < settings.min_requests:
            return []
        query = Query(OUTPUTS_SQL, parameters)
        error_rate = int(row["errors"]) / requests
        measurements = [
            target.measurement(
                self.name,
                "error_rate",
                error_rate,
                query=query,
                limit=Limit(settings.error_rate, settings.error_rate_clear, critical=4 * settings.error_rate),
                message=f"{error_rate:.1%} of {requests} requests failed",
            )
        ]
        if ok >= settings.min_requests:
            empty_rate = int(row["empty_or_refused"]) / ok
            measurements.append(
                target.measurement(
                    self.name,
                    "empty_or_refusal_rate",
                    empty_rate,
                    query=query,
                    limit=Limit(settings.empty_or_refusal_rate, settings.empty_or_refusal_rate_clear),
                    message=f"{empty_rate:.1%} of {ok} answers were empty or refusals",
                )
            )
        return measurements


def _mean(row: dict[str, Any], on_ratings: bool) -> float:
    return float(row["rating_mean"] if on_ratings else row["thumbs_mean"])


def _negative(row: dict[str, Any], on_ratings: bool) -> int:
    return int(row["rating_negative"] if on_ratings else row["thumbs_negative"])
