"""Turns generated tokens into text deltas: incremental decoding, stop strings, finish reasons.

Text that could still become a stop string, or that ends in an unfinished UTF-8 character, is held back
until the next token settles it, so a client never sees text that is later taken back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .base import FinishReason

REPLACEMENT = "\ufffd"


@dataclass
class TextStream:
    """One sequence's output so far; `push` each token and emit what it returns."""

    decode: Callable[[Sequence[int]], str]
    stop: tuple[str, ...]
    max_tokens: int
    eos_token_ids: frozenset[int]
    token_ids: list[int] = field(default_factory=list)
    emitted: int = 0
    finish_reason: FinishReason | None = None

    def push(self, token_id: int) -> str:
        """Adds a token; returns the text now safe to emit (maybe empty) and sets `finish_reason` at the end."""
        self.token_ids.append(token_id)
        if token_id in self.eos_token_ids:
            self.finish_reason = "stop"
            return self._flush(self.decode(self.token_ids[:-1]))
        text = self.decode(self.token_ids)
        for stop in self.stop:
            at = text.find(stop, max(0, self.emitted - len(stop)))
            if at != -1:
                self.finish_reason = "stop"
                return self._flush(text[:at])
        if len(self.token_ids) >= self.max_tokens:
            self.finish_reason = "length"
            return self._flush(text)
        safe = len(text) - self._held_back(text)
        delta = text[self.emitted : max(safe, self.emitted)]
        self.emitted += len(delta)
        return delta

    def _flush(self, text: str) -> str:
        delta = text[self.emitted :]
        self.emitted += len(delta)
        return delta

    def _held_back(self, text: str) -> int:
        """How many trailing characters may still change: a partial character or a stop string's start."""
        if text.endswith(REPLACEMENT):
            return len(text) - len(text.rstrip(REPLACEMENT))
        longest = 0
        for stop in self.stop:
            for size in range(min(len(stop) - 1, len(text)), longest, -1):
                if text.endswith(stop[:size]):
                    longest = size
                    break
        return longest
