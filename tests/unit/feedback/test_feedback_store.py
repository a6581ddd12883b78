"""The collector's SQLite store: TTL, size bound, redelivery, and what survives a restart."""

from __future__ import annotations

from pathlib import Path

from services.feedback_collector.store import FeedbackStore, KnownRequest, StoredFeedback, StoredIntent


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def request(request_id: str, tenant: str = "acme") -> KnownRequest:
    return KnownRequest(request_id, tenant, "support-bot", "v3", "full", "How fast?", "Slowly.")


def test_a_request_is_known_until_its_ttl_runs_out(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "f.sqlite", ttl_seconds=60, max_requests=10, clock=clock)
    store.remember_requests([request("r1")])

    clock.now += 59
    assert store.request("r1") == request("r1")
    clock.now += 2
    assert store.request("r1") is None
    store.remember_requests([request("r2")])  # a write evicts what expired
    assert store.request_count() == 1


def test_the_oldest_requests_go_first_past_the_bound(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "f.sqlite", ttl_seconds=60, max_requests=2, clock=clock)
    for request_id in ("r1", "r2", "r3"):
        clock.now += 1
        store.remember_requests([request(request_id)])

    assert store.request_count() == 2
    assert store.request("r1") is None
    assert [store.request(r) is not None for r in ("r2", "r3")] == [True, True]


def test_a_redelivered_request_keeps_its_row_and_its_age(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "f.sqlite", ttl_seconds=60, max_requests=10, clock=clock)
    store.remember_requests([request("r1")])
    clock.now += 50
    store.remember_requests([request("r1")])
    assert store.request_count() == 1
    clock.now += 11
    assert store.request("r1") is None  # the redelivery did not extend the TTL


def test_requests_and_feedback_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite"
    store = FeedbackStore(path, ttl_seconds=60, max_requests=10)
    store.remember_requests([request("r1", tenant="globex")])
    store.remember_feedback("globex", "fb-1", StoredFeedback("abc", '{"x": 1}'))
    store.close()

    reopened = FeedbackStore(path, ttl_seconds=60, max_requests=10)
    assert reopened.request("r1") == request("r1", tenant="globex")
    assert reopened.feedback("globex", "fb-1") == StoredFeedback("abc", '{"x": 1}')
    assert reopened.feedback("acme", "fb-1") is None  # feedback ids are per tenant


def test_an_intent_survives_a_restart_until_its_feedback_is_remembered(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite", ttl_seconds=60, max_requests=10, clock=Clock())
    intent = StoredIntent("sha", '{"event": 1}', None)
    store.record_intent("acme", "fb-1", intent)
    store.close()

    reopened = FeedbackStore(tmp_path / "f.sqlite", ttl_seconds=60, max_requests=10, clock=Clock())
    assert reopened.intent("acme", "fb-1") == intent
    assert reopened.intent("other", "fb-1") is None
    reopened.remember_feedback("acme", "fb-1", StoredFeedback("sha", "{}"))
    assert reopened.intent("acme", "fb-1") is None
