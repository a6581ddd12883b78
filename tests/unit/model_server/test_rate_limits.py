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
    limits.admit(limited, 1)
    clock.now += 10
    limits.admit(limited, 1)
    with pytest.raises(RateLimitedError) as refused:
        limits.admit(limited, 1)
    assert refused.value.retry_after == pytest.approx(50)
    clock.now += 50.5
    limits.admit(limited, 1)


def test_tokens_per_minute_count_finished_requests() -> None:
    clock = Clock()
    limits = KeyLimits(clock)
    limited = key(tpm=100)
    limits.admit(limited, 10)
    limits.record_tokens(limited, 60)
    clock.now += 5
    limits.admit(limited, 10)
    limits.record_tokens(limited, 50)
    with pytest.raises(RateLimitedError) as refused:
        limits.admit(limited, 10)
    assert refused.value.retry_after == pytest.approx(55)  # when the first 60 tokens leave the window
    clock.now += 56
    limits.admit(limited, 10)


def test_max_input_tokens_and_keys_without_limits() -> None:
    limits = KeyLimits()
    with pytest.raises(RateLimitedError, match="12 tokens"):
        limits.admit(key(max_input_tokens=10), 12)
    for _ in range(1000):
        limits.admit(key(), 10_000)
