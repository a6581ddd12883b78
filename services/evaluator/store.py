"""The evaluator's own record, in SQLite in its state folder: each evaluation's events, by eval id.

An evaluation is done once its events are kept here; a redelivered `training.completed` re-publishes
them and scores nothing again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from llmops_common.events import EvalCompletedV1, ModelCanaryStartedV1


@dataclass(frozen=True)
class EvalOutcome:
    """What an evaluation published: its result, and the canary it started when the gate passed."""

    completed: EvalCompletedV1
    canary: ModelCanaryStartedV1 | None


class EvalStore:
    """Finished evaluations; one process owns it (its state folder)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS evals "
            "(eval_id TEXT PRIMARY KEY, completed_json TEXT NOT NULL, canary_json TEXT)"
        )

    def outcome(self, eval_id: str) -> EvalOutcome | None:
        """A finished evaluation's events."""
        row = self._db.execute("SELECT completed_json, canary_json FROM evals WHERE eval_id = ?", (eval_id,)).fetchone()
        if row is None:
            return None
        canary = ModelCanaryStartedV1.model_validate_json(row[1]) if row[1] else None
        return EvalOutcome(EvalCompletedV1.model_validate_json(row[0]), canary)

    def keep(self, outcome: EvalOutcome) -> None:
        """Keeps an evaluation's events before they are published."""
        self._db.execute(
            "INSERT OR REPLACE INTO evals (eval_id, completed_json, canary_json) VALUES (?, ?, ?)",
            (
                outcome.completed.eval_id,
                outcome.completed.model_dump_json(),
                outcome.canary.model_dump_json() if outcome.canary else None,
            ),
        )

    def close(self) -> None:
        """Closes the database."""
        self._db.close()
