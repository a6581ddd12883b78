"""What telemetry keeps of prompts and completions, and what a request costs."""

from __future__ import annotations

from collections.abc import Mapping

from llmops_common.pii.regex_redactor import RegexRedactor

from .settings import ModelPrice, TextCapture

_REDACTOR = RegexRedactor()
CAPTURED_CHARS = 16_000
"""Captured text is cut here, so one long prompt cannot make an event too large for the broker."""


def captured_text(text: str | None, capture: TextCapture) -> str | None:
    """`text` as telemetry keeps it: not at all, with PII masked, or in full (cut to `CAPTURED_CHARS`)."""
    if text is None or capture == "none":
        return None
    text = text[:CAPTURED_CHARS]
    return _REDACTOR.redact(text).text if capture == "redacted" else text


def request_cost(
    prices: Mapping[str, ModelPrice], model: str, base_model: str, prompt_tokens: int, completion_tokens: int
) -> float:
    """USD for the tokens, at the deployed model's price, else the base model's, else free."""
    price = prices.get(model) or prices.get(base_model)
    if price is None:
        return 0.0
    return (prompt_tokens * price.input_per_1k + completion_tokens * price.output_per_1k) / 1000
