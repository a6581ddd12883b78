"""Validation of a normalised record: empty, too long or malformed records are rejected with a reason."""

from __future__ import annotations

from llmops_common.events.data import RecordSubmittedV1

from .content import RecordContent
from .outcomes import Rejection, RejectReason


def validate(record: RecordSubmittedV1, content: RecordContent, max_chars: int) -> Rejection | None:
    """The first problem of `record`, whose normalised content is `content`; None when it is valid.

    Checked in this order: empty (no text at all), malformed (an example that cannot train a model),
    too long (more than `max_chars` characters over all segments).
    """
    if not any(segment.text for segment in content.segments):
        return Rejection(RejectReason.EMPTY, f"{record.kind} has no text after normalisation")
    if problem := _malformed(record, content):
        return Rejection(RejectReason.MALFORMED, problem)
    if (chars := content.char_count()) > max_chars:
        return Rejection(RejectReason.TOO_LONG, f"{chars} characters > {max_chars}")
    return None


def _malformed(record: RecordSubmittedV1, content: RecordContent) -> str | None:
    if record.kind == "document":
        return None
    if record.messages is not None and record.prompt is not None:
        return "example has both prompt and messages"
    if content.shape == "completion":
        prompt, completion = (segment.text for segment in content.segments)
        if not completion:
            return "example has no completion"
        return None if prompt else "example has no prompt"
    if not any(segment.role == "assistant" and segment.text for segment in content.segments):
        return "chat example has no assistant turn"
    if not any(segment.role != "assistant" and segment.text for segment in content.segments):
        return "chat example has only assistant turns"
    return None
