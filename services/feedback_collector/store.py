"""The collector's own state, in SQLite in its state folder: the requests it learned and the feedback it took.

- Requests come from `llmops.inference.completed`; each is kept for a TTL, and the oldest go first once
  the store holds its maximum, so the join never grows without bound.
- Feedback is remembered by (tenant, feedback_id), so a retried POST answers what the first one did.
- Before a feedback's events are published they are written down as an intent, so a retry after a crash
  publishes the same events again rather than new ones (see `outbox.py`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Clock = Callable[[], float]
"""Seconds since the epoch; injected so that tests can move time."""


@dataclass(frozen=True)
class KnownRequest:
    """What the collector keeps of one served request: enough to check the tenant and build an example."""

    request_id: str
    tenant: str
    model_name: str
    adapter_version: str | None
    text_capture: str
    prompt_text: str | None
    completion_text: str | None


@dataclass(frozen=True)
class StoredFeedback:
    """A feedback the collector accepted: the hash of its body, and the JSON it answered."""

    body_sha256: str
    response_json: str


@dataclass(frozen=True)
class StoredIntent:
    """A feedback whose events were built, and may have been published, but not yet remembered as accepted."""

    body_sha256: str
    event_json: str
    example_json: str | None


class FeedbackStore:
    """Requests with a TTL and a size bound, and accepted feedback; one process owns it (its state folder)."""

    def __init__(self, path: Path, *, ttl_seconds: float, max_requests: int, clock: Clock = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._ttl = ttl_seconds
        self._max_requests = max_requests
        self._clock = clock
        self._db = sqlite3.connect(str(path), isolation_level="DEFERRED", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS requests (
                request_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, model_name TEXT NOT NULL,
                adapter_version TEXT, text_capture TEXT NOT NULL, prompt_text TEXT, completion_text TEXT,
                learned_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS requests_by_age ON requests (learned_at);
            CREATE TABLE IF NOT EXISTS feedback (
                tenant TEXT NOT NULL, feedback_id TEXT NOT NULL, body_sha256 TEXT NOT NULL,
                response TEXT NOT NULL, accepted_at REAL NOT NULL, PRIMARY KEY (tenant, feedback_id));
            CREATE INDEX IF NOT EXISTS feedback_by_age ON feedback (accepted_at);
            CREATE TABLE IF NOT EXISTS feedback_intents (
                tenant TEXT NOT NULL, feedback_id TEXT NOT NULL, body_sha256 TEXT NOT NULL,
                event TEXT NOT NULL, example TEXT, created_at REAL NOT NULL, PRIMARY KEY (tenant, feedback_id));
            CREATE INDEX IF NOT EXISTS feedback_intents_by_age ON feedback_intents (created_at);
            """
        )
        self._db.commit()

    def remember_requests(self, requests: list[KnownRequest]) -> None:
        """Keeps the requests (a redelivery changes nothing), then drops the expired and the excess."""
        now = self._clock()
        self._db.executemany(
            "INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.request_id,
                    r.tenant,
                    r.model_name,
                    r.adapter_version,
                    r.text_capture,
                    r.prompt_text,
                    r.completion_text,
                    now,
                )
                for r in requests
            ],
        )
        self._evict(now)
        self._db.commit()

    def request(self, request_id: str) -> KnownRequest | None:
        """The request, while its TTL has not run out."""
        row = self._db.execute(
            "SELECT request_id, tenant, model_name, adapter_version, text_capture, prompt_text, completion_text"
            " FROM requests WHERE request_id = ? AND learned_at > ?",
            (request_id, self._clock() - self._ttl),
        ).fetchone()
        return None if row is None else KnownRequest(*row)

    def request_count(self) -> int:
        """How many requests the store holds, expired ones not yet evicted included."""
        return int(self._db.execute("SELECT count(*) FROM requests").fetchone()[0])

    def feedback(self, tenant: str, feedback_id: str) -> StoredFeedback | None:
        """The feedback accepted earlier under this id, if any."""
        row = self._db.execute(
            "SELECT body_sha256, response FROM feedback WHERE tenant = ? AND feedback_id = ?", (tenant, feedback_id)
        ).fetchone()
        return None if row is None else StoredFeedback(row[0], row[1])

    def remember_feedback(self, tenant: str, feedback_id: str, stored: StoredFeedback) -> None:
        """Records an accepted feedback, after its event is published, and forgets its intent."""
        self._db.execute(
            "INSERT OR IGNORE INTO feedback VALUES (?, ?, ?, ?, ?)",
            (tenant, feedback_id, stored.body_sha256, stored.response_json, self._clock()),
        )
        self._db.execute("DELETE FROM feedback_intents WHERE tenant = ? AND feedback_id = ?", (tenant, feedback_id))
        self._db.commit()

    def intent(self, tenant: str, feedback_id: str) -> StoredIntent | None:
        """The events built for this feedback by an attempt that did not finish, if any."""
        row = self._db.execute(
            "SELECT body_sha256, event, example FROM feedback_intents WHERE tenant = ? AND feedback_id = ?",
            (tenant, feedback_id),
        ).fetchone()
        return None if row is None else StoredIntent(row[0], row[1], row[2])

    def intent_keys(self) -> list[tuple[str, str]]:
        """The (tenant, feedback_id) of every intent not yet remembered as feedback, oldest first."""
        rows = self._db.execute("SELECT tenant, feedback_id FROM feedback_intents ORDER BY created_at").fetchall()
        return [(row[0], row[1]) for row in rows]

    def record_intent(self, tenant: str, feedback_id: str, intent: StoredIntent) -> None:
        """Writes a feedback's events down before they are published; durable when this returns."""
        self._db.execute(
            "INSERT OR REPLACE INTO feedback_intents VALUES (?, ?, ?, ?, ?, ?)",
            (tenant, feedback_id, intent.body_sha256, intent.event_json, intent.example_json, self._clock()),
        )
        self._db.commit()

    def _evict(self, now: float) -> None:
        cutoff = now - self._ttl
        self._db.execute("DELETE FROM requests WHERE learned_at <= ?", (cutoff,))
        # Feedback ids are kept for the same TTL: a client retries within minutes, not days.
        self._db.execute("DELETE FROM feedback WHERE accepted_at <= ?", (cutoff,))
        self._db.execute("DELETE FROM feedback_intents WHERE created_at <= ?", (cutoff,))
        excess = self.request_count() - self._max_requests
        if excess > 0:
            self._db.execute(
                "DELETE FROM requests WHERE request_id IN"
                " (SELECT request_id FROM requests ORDER BY learned_at LIMIT ?)",
                (excess,),
            )

    def close(self) -> None:
        """Closes the database."""
        self._db.close()
