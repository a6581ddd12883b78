"""Per-key limits over a sliding minute, on a clock the test moves."""

from __future__ import annotations

import pytest

from llmops_common.auth.keyring import Principal
from services.model_server.errors import RateLimitedError
from services.model_server.rate_limits import KeyLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(**limits: int) -> Principal:
    return Principal("k1", "t", frozenset(), frozenset(), **limits)  # type: ignore[arg-type]


def test_requests_per_minute_refuse_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    limits = KeyLimits(clock)
    limited = key(rpm=2)
    limits.admit(limited, 1, 10)
    clock.now += 10
    limits.admit(limited, 1, 10)
    with pytest.raises(RateLimitedError) as refused:
        limits.admit(limited, 1, 10)
    assert refused.value.retry_after == pytest.approx(50)
    clock.now += 50.5
    limits.admit(limited, 1, 10)


def test_tokens_per_minute_count_reservations_then_what_was_used() -> None:
    clock = Clock()
    limits = KeyLimits(clock)
    limited = key(tpm=100)
    first = limits.admit(limited, 10, 60)
    clock.now += 5
    second = limits.admit(limited, 10, 40)
    assert first is not None
    assert second is not None
    # Both still run: their reservations fill the minute.
    with pytest.raises(RateLimitedError) as refused:
        limits.admit(limited, 1, 1)
    assert refused.value.retry_after == pytest.approx(55)  # when the first reservation leaves the window
    limits.settle(first, 30)
    limits.settle(second, 20)
    third = limits.admit(limited, 10, 50)  # 30 + 20 used, 50 free
    assert third is not None
    with pytest.raises(RateLimitedError):
        limits.admit(limited, 1, 1)
    clock.now += 56
    limits.admit(limited, 10, 30)  # the first's 30 left the window


def test_a_reservation_settled_after_it_left_the_window_counts_no_more() -> None:
    clock = Clock()
    limits = KeyLimits(clock)
    limited = key(tpm=100)
    long_running = limits.admit(limited, 10, 100)
    assert long_running is not None
    clock.now += 61
    limits.settle(long_running, 100)
    assert limits.admit(limited, 10, 100) is not None


def test_a_request_larger_than_the_tokens_per_minute_is_refused_for_good() -> None:
    with pytest.raises(RateLimitedError, match="may use 120 tokens") as refused:
        KeyLimits().admit(key(tpm=100), 20, 120)
    assert refused.value.retry_after == 0


def test_max_input_tokens_and_keys_without_limits() -> None:
    limits = KeyLimits()
    with pytest.raises(RateLimitedError, match="12 tokens"):
        limits.admit(key(max_input_tokens=10), 12, 20)
    for _ in range(1000):
        assert limits.admit(key(), 10_000, 20_000) is None
