"""Per-key limits over a sliding minute: requests per minute, tokens per minute, input tokens per request.

Tokens count when a request ends (prompt and completion together); a request is refused when the
minute's tokens already reach the limit. In memory, per server instance: N instances allow N times the
limit, which a shared store could tighten later.
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
class _KeyWindow:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)
    token_sum: int = 0

    def expire(self, now: float) -> None:
        cutoff = now - WINDOW_SECONDS
        while self.requests and self.requests[0] <= cutoff:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= cutoff:
            self.token_sum -= self.tokens.popleft()[1]


class KeyLimits:
    """The windows of every key that has limits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _KeyWindow] = {}

    def admit(self, principal: Principal, prompt_tokens: int) -> None:
        """Counts a request against its key, or raises `RateLimitedError` saying when to retry."""
        if principal.max_input_tokens is not None and prompt_tokens > principal.max_input_tokens:
            # Waiting does not help, but OpenAI signals every per-key limit with 429.
            raise RateLimitedError(
                f"the prompt has {prompt_tokens} tokens; this key allows {principal.max_input_tokens}",
                retry_after=0,
            )
        if principal.rpm is None and principal.tpm is None:
            return
        now = self._clock()
        window = self._windows.setdefault(principal.key_id, _KeyWindow())
        window.expire(now)
        if principal.rpm is not None and len(window.requests) >= principal.rpm:
            raise RateLimitedError(
                f"this key allows {principal.rpm} requests per minute",
                retry_after=window.requests[0] + WINDOW_SECONDS - now,
            )
        if principal.tpm is not None and window.token_sum >= principal.tpm:
            raise RateLimitedError(
                f"this key allows {principal.tpm} tokens per minute",
                retry_after=self._tokens_free_at(window, principal.tpm) - now,
            )
        window.requests.append(now)

    def record_tokens(self, principal: Principal, tokens: int) -> None:
        """Counts a finished request's tokens against its key's minute."""
        if principal.tpm is None or tokens <= 0:
            return
        window = self._windows.setdefault(principal.key_id, _KeyWindow())
        window.tokens.append((self._clock(), tokens))
        window.token_sum += tokens

    @staticmethod
    def _tokens_free_at(window: _KeyWindow, tpm: int) -> float:
        remaining = window.token_sum
        for at, tokens in window.tokens:
            remaining -= tokens
            if remaining < tpm:
                return at + WINDOW_SECONDS
        return window.tokens[-1][0] + WINDOW_SECONDS
