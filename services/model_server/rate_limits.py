"""Per-key limits over a sliding minute: requests per minute, tokens per minute, input tokens per request.

A request reserves its most tokens when it is admitted (its prompts, and `max_tokens` for each choice)
and settles to the tokens it used when it ends. Counting only at the end let any number of concurrent
requests pass a key's minute while none had finished. A request is refused when its reservation would
take the minute past the limit. In memory, per server instance: N instances allow N times the limit,
which a shared store could tighten later.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from llmops_common.auth.keyring import Principal

from .errors import RateLimitedError

WINDOW_SECONDS = 60.0


@dataclass
class TokenReservation:
    """Tokens a request holds in its key's minute, from `at`: its reservation, then what it used."""

    key_id: str
    at: float
    tokens: int


@dataclass
class _KeyWindow:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[TokenReservation] = field(default_factory=deque)
    token_sum: int = 0

    def expire(self, now: float) -> None:
        cutoff = now - WINDOW_SECONDS
        while self.requests and self.requests[0] <= cutoff:
            self.requests.popleft()
        while self.tokens and self.tokens[0].at <= cutoff:
            self.token_sum -= self.tokens.popleft().tokens


class KeyLimits:
    """The windows of every key that has limits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _KeyWindow] = {}

    def admit(self, principal: Principal, prompt_tokens: int, most_tokens: int) -> TokenReservation | None:
        """Counts a request against its key, reserving `most_tokens` of its minute for a key with a TPM
        (settle it with `settle`), or raises `RateLimitedError` saying when to retry."""
        if principal.max_input_tokens is not None and prompt_tokens > principal.max_input_tokens:
            # Waiting does not help, but OpenAI signals every per-key limit with 429.
            raise RateLimitedError(
                f"the prompt has {prompt_tokens} tokens; this key allows {principal.max_input_tokens}",
                retry_after=0,
            )
        if principal.tpm is not None and most_tokens > principal.tpm:
            raise RateLimitedError(
                f"the request may use {most_tokens} tokens (its prompts, and max_tokens for each choice); this"
                f" key allows {principal.tpm} tokens per minute: lower max_tokens or n",
                retry_after=0,
            )
        if principal.rpm is None and principal.tpm is None:
            return None
        now = self._clock()
        window = self._windows.setdefault(principal.key_id, _KeyWindow())
        window.expire(now)
        if principal.rpm is not None and len(window.requests) >= principal.rpm:
            raise RateLimitedError(
                f"this key allows {principal.rpm} requests per minute",
                retry_after=window.requests[0] + WINDOW_SECONDS - now,
            )
        if principal.tpm is not None and window.token_sum + most_tokens > principal.tpm:
            raise RateLimitedError(
                f"this key allows {principal.tpm} tokens per minute",
                retry_after=self._tokens_free_at(window, principal.tpm - most_tokens) - now,
            )
        window.requests.append(now)
        if principal.tpm is None:
            return None
        reservation = TokenReservation(principal.key_id, now, most_tokens)
        window.tokens.append(reservation)
        window.token_sum += most_tokens
        return reservation

    def settle(self, reservation: TokenReservation, used_tokens: int) -> None:
        """Replaces a request's reservation by the tokens it used, while the reservation is in the minute.

        One that has left the minute stays out: its tokens counted, as the reservation, for a whole one.
        """
        window = self._windows.get(reservation.key_id)
        if window is None:
            return
        now = self._clock()
        window.expire(now)
        if reservation.at > now - WINDOW_SECONDS:
            window.token_sum += used_tokens - reservation.tokens
            reservation.tokens = used_tokens

    @staticmethod
    def _tokens_free_at(window: _KeyWindow, room: int) -> float:
        """When enough reservations leave the minute that at most `room` tokens remain."""
        remaining = window.token_sum
        for reservation in window.tokens:
            remaining -= reservation.tokens
            if remaining <= room:
                return reservation.at + WINDOW_SECONDS
        return window.tokens[-1].at + WINDOW_SECONDS
