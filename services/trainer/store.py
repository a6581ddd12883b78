"""The trainer's own state, in SQLite in its state folder.

- jobs: each job's terminal event once it has one (a redelivered request re-publishes it and trains
  nothing), and its last checkpoint in the artifact store (a restarted trainer resumes there);
- cancellations: asked for before or while a job runs;
- the auto-retrain policy's memory: when each model last got a job, and on how many examples.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops_common.events import TrainingCompletedV1
from llmops_common.events.base import ArtifactRef


@dataclass(frozen=True)
class Checkpoint:
    """A job's last checkpoint: the step it was taken at and the folder's artifact."""

    step: int
    artifact: ArtifactRef


@dataclass(frozen=True)
class RetrainMark:
    """The last job the auto-retrain policy asked for a model."""

    requested_at: float
    dataset_rows: int


class TrainerStore:
    """One process owns it; the training thread records checkpoints while the loop reads, hence the lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS jobs (
                job_id TEXT PRIMARY KEY, completed_json TEXT, checkpoint_step INTEGER, checkpoint_json TEXT,
                updated_at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS cancellations (job_id TEXT PRIMARY KEY, reason TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS retrain_marks (
                model_name TEXT PRIMARY KEY, requested_at REAL NOT NULL, dataset_rows INTEGER NOT NULL);
            """
        )

    def completed(self, job_id: str) -> TrainingCompletedV1 | None:
        """The job's terminal event, once it has one."""
        row = self._one("SELECT completed_json FROM jobs WHERE job_id = ?", job_id)
        return TrainingCompletedV1.model_validate_json(row[0]) if row and row[0] else None

    def finish(self, event: TrainingCompletedV1) -> None:
        """Keeps the terminal event: from now on the job is done, whatever is redelivered."""
        self._write(
            "INSERT INTO jobs (job_id, completed_json, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET completed_json = excluded.completed_json, "
            "updated_at = excluded.updated_at",
            event.job_id,
            event.model_dump_json(),
            time.time(),
        )

    def checkpoint(self, job_id: str) -> Checkpoint | None:
        """The job's last checkpoint in the artifact store."""
        row = self._one("SELECT checkpoint_step, checkpoint_json FROM jobs WHERE job_id = ?", job_id)
        if not row or row[1] is None:
            return None
        return Checkpoint(int(row[0]), ArtifactRef.model_validate_json(row[1]))

    def record_checkpoint(self, job_id: str, checkpoint: Checkpoint) -> None:
        """Remembers a checkpoint that is safely in the artifact store."""
        self._write(
            "INSERT INTO jobs (job_id, checkpoint_step, checkpoint_json, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (job_id) DO UPDATE SET checkpoint_step = excluded.checkpoint_step, "
            "checkpoint_json = excluded.checkpoint_json, updated_at = excluded.updated_at",
            job_id,
            checkpoint.step,
            checkpoint.artifact.model_dump_json(),
            time.time(),
        )

    def cancel(self, job_id: str, reason: str) -> None:
        """Marks a job cancelled; a running job stops at its next step, a later one never starts."""
        self._write("INSERT OR IGNORE INTO cancellations (job_id, reason) VALUES (?, ?)", job_id, reason)

    def cancel_reason(self, job_id: str) -> str | None:
        """Why the job was cancelled, if it was."""
        row = self._one("SELECT reason FROM cancellations WHERE job_id = ?", job_id)
        return str(row[0]) if row else None

    def retrain_mark(self, model_name: str) -> RetrainMark | None:
        """When the policy last asked for a job for the model."""
        row = self._one("SELECT requested_at, dataset_rows FROM retrain_marks WHERE model_name = ?", model_name)
        return RetrainMark(float(row[0]), int(row[1])) if row else None

    def mark_retrain(self, model_name: str, mark: RetrainMark) -> None:
        """Remembers a job the policy asked for."""
        self._write(
            "INSERT OR REPLACE INTO retrain_marks (model_name, requested_at, dataset_rows) VALUES (?, ?, ?)",
            model_name,
            mark.requested_at,
            mark.dataset_rows,
        )

    def close(self) -> None:
        """Closes the database."""
        with self._lock:
            self._db.close()

    def _one(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, params).fetchone()
        return row

    def _write(self, sql: str, *params: object) -> None:
        with self._lock:
            self._db.execute(sql, params)
