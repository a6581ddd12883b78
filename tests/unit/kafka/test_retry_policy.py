"""How patient the consumer is with each kind of failure, and how its pauses grow."""

from __future__ import annotations

import random

from aiokafka.errors import KafkaConnectionError, UnsupportedVersionError

from llmops_common.errors import PermanentError
from llmops_common.kafka.retry_policy import RetryPolicy, is_transient
from llmops_common.storage.errors import StoreUnavailableError


def policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=3,
        backoff_seconds=0.1,
        transient_max_seconds=10.0,
        max_backoff_seconds=1.0,
        jitter=random.Random(7),  # noqa: S311 - spreads pauses, guards no secret
    )


def test_pauses_double_up_to_the_cap_and_are_jittered_within_their_upper_half() -> None:
    retry = policy()
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = {retry.delay(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), attempt
        assert len(delays) > 1, attempt


def test_a_transient_failure_is_retried_until_the_time_bound_not_the_attempt_count() -> None:
    retry, error = policy(), StoreUnavailableError("ClickHouse does not answer")
    assert retry.should_retry(error, attempt=50, elapsed_seconds=8.0, next_delay=1.0)
    assert not retry.should_retry(error, attempt=50, elapsed_seconds=9.5, next_delay=1.0)
    assert retry.should_retry(error, attempt=2, elapsed_seconds=60.0, next_delay=1.0)  # the attempts come first


def test_an_unknown_failure_gets_the_attempts_and_a_permanent_one_none() -> None:
    retry = policy()
    assert retry.should_retry(RuntimeError("bug"), attempt=2, elapsed_seconds=0.1, next_delay=0.1)
    assert not retry.should_retry(RuntimeError("bug"), attempt=3, elapsed_seconds=0.1, next_delay=0.1)
    assert not retry.should_retry(PermanentError("bad event"), attempt=1, elapsed_seconds=0.0, next_delay=0.1)


def test_what_counts_as_transient() -> None:
    assert is_transient(StoreUnavailableError("down"))
    assert is_transient(KafkaConnectionError())
    assert not is_transient(UnsupportedVersionError())
    assert not is_transient(ConnectionError("not ours to judge"))
