"""How a failing handler is tried again before its event goes to the dead-letter topic.

Failures come in three kinds, and each gets the patience it deserves:

- a `PermanentError` (or an invalid event) cannot pass on another try: no retry;
- a transient failure (a `RetryableError`, such as a store or broker briefly away, or a retriable
  Kafka client error) is retried with exponential backoff and jitter until `transient_max_seconds`
  have passed since the first failure, so an outage of seconds dead-letters nothing;
- any other failure (a bug, an event the code cannot take) is tried `max_attempts` times, quickly,
  so that one poisoned event does not hold its partition for long.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from aiokafka.errors import KafkaError

from ..errors import PermanentError, RetryableError


def is_transient(error: BaseException) -> bool:
    """Whether `error` says something is briefly away, so that waiting can help."""
    if isinstance(error, RetryableError):
        return True
    return isinstance(error, KafkaError) and bool(getattr(error, "retriable", False))


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a failing handler is tried again."""

    max_attempts: int = 3
    """Attempts in all for a failure that is neither permanent nor transient (and the least for a transient one)."""
    backoff_seconds: float = 0.2
    """The pause after the first failure; each further pause doubles, up to `max_backoff_seconds`."""
    transient_max_seconds: float = 60.0
    """How long a transient failure is retried, from its first failure, before the event is dead-lettered."""
    max_backoff_seconds: float = 5.0
    """The longest single pause."""
    jitter: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    """Spreads the pauses, so the members of a group do not all hit a recovering store at once."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): exponential, with equal jitter."""
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.jitter.uniform(0, ceiling / 2)

    def should_retry(self, error: BaseException, attempt: int, elapsed_seconds: float, next_delay: float) -> bool:
        """Whether to try again after failed attempt number `attempt`, `elapsed_seconds` after the first failure."""
        if isinstance(error, PermanentError):
            return False
        if attempt < self.max_attempts:
            return True
        return is_transient(error) and elapsed_seconds + next_delay <= self.transient_max_seconds
