"""A record's content as a uniform tuple of segments, its canonical bytes, and its stable id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.events.data import ChatMessage, RecordSubmittedV1

from .outcomes import CleanRecord

Shape = Literal["document", "completion", "chat"]
"""A document's text; an example's prompt and completion; or an example's chat messages."""

DOC_ID_HEX_CHARS = 32
"""128 bits of sha256: collisions are out of reach at any corpus size."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of text of a record, with its role: `text`, `prompt`, `completion` or a chat role."""

    role: str
    text: str


@dataclass(frozen=True, slots=True)
class RecordContent:
    """The text of a record in one shape that every step can walk without caring about its kind."""

    shape: Shape
    segments: tuple[Segment, ...]

    @classmethod
    def of(cls, record: RecordSubmittedV1) -> RecordContent:
        """The raw content of `record`; a missing prompt or completion becomes an empty segment."""
        if record.kind == "document":
            return cls("document", (Segment("text", record.text or ""),))
        if record.messages is not None:
            return cls("chat", tuple(Segment(message.role, message.content) for message in record.messages))
        prompt, completion = record.prompt or "", record.completion or ""
        return cls("completion", (Segment("prompt", prompt), Segment("completion", completion)))

    def map(self, change: Callable[[str], str]) -> RecordContent:
        """The same content with `change` applied to the text of every segment."""
        return RecordContent(self.shape, tuple(Segment(part.role, change(part.text)) for part in self.segments))

    def joined(self) -> str:
        """All segments' text, a blank line apart: what quality filters and near-dup read."""
        if len(self.segments) == 1:
            return self.segments[0].text
        return "\n\n".join(segment.text for segment in self.segments)

    def char_count(self) -> int:
        """The number of characters over all segments."""
        return sum(len(segment.text) for segment in self.segments)

    def canonical_bytes(self) -> bytes:
        """What `content_sha256` hashes: a document's UTF-8 text, or an example's turns as compact JSON.

        The JSON of an example is a list of `[role, text]` pairs, for instance
        `[["prompt","Hi"],["completion","Hello"]]`, so that the same turns always give the same bytes.
        """
        if self.shape == "document":
            return self.segments[0].text.encode()
        pairs = [[segment.role, segment.text] for segment in self.segments]
        return json.dumps(pairs, ensure_ascii=False, separators=(",", ":")).encode()

    def clean_record(self, record: RecordSubmittedV1, doc_id: str, content_sha256: str) -> CleanRecord:
        """The accepted `record` carrying this content in place of its own."""
        texts = [segment.text for segment in self.segments]
        messages = None
        if self.shape == "chat":
            messages = tuple(
                ChatMessage.model_validate({"role": segment.role, "content": segment.text}) for segment in self.segments
            )
        return CleanRecord(
            record_id=record.record_id,
            tenant=record.tenant,
            source=record.source,
            kind=record.kind,
            dataset=record.dataset,
            metadata=dict(record.metadata),
            doc_id=doc_id,
            content_sha256=content_sha256,
            text=texts[0] if self.shape == "document" else None,
            prompt=texts[0] if self.shape == "completion" else None,
            completion=texts[1] if self.shape == "completion" else None,
            messages=messages,
            collection=document_collection(record),
        )


def document_collection(record: RecordSubmittedV1) -> str | None:
    """The knowledge base a document record goes into; None for an example, which goes into a dataset."""
    return (record.collection or DEFAULT_COLLECTION) if record.kind == "document" else None


def doc_id_of(tenant: str, source: str, record_id: str) -> str:
    """The stable id of a record: a truncated sha256 of tenant, source and record id.

    The three are hashed as a JSON list, so that no choice of separators can make two different
    triples collide.
    """
    key = json.dumps([tenant, source, record_id], ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(key).hexdigest()[:DOC_ID_HEX_CHARS]
