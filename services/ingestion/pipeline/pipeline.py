"""The ingestion pipeline: one record at a time through every step, with bounded memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from llmops_common.events.data import RecordSubmittedV1
from llmops_common.pii.types import PiiType, Redactor

from .config import PipelineSettings
from .content import RecordContent, doc_id_of, document_collection
from .counters import PipelineCounters
from .dedup import Deduplicator
from .dedup_state import DedupState
from .normalise import normalise_text
from .outcomes import Duplicate, Outcome, Rejected, Rejection
from .pii.engine import build_redactor
from .quality import check_quality
from .validation import validate


class IngestionPipeline:
    """Normalises, validates, redacts, filters and deduplicates records, and counts every step.

    The order, and why:
    1. normalise, so that every later step sees one spelling of the text;
    2. validate, which is cheap, before any costly step;
    3. redact PII, before anything is kept or compared: two texts that differ only in an email
       address are duplicates, and quality is judged on the text that will be stored;
    4. quality filters, before dedup, so that a rejected record never enters the dedup index,
       where it would take memory and could make a good record the "duplicate" of one never kept;
    5. exact dedup, a dict lookup, before
    6. near dedup, which shingles and MinHashes the text.

    The pipeline holds no record after `process` returns; its memory is the dedup index (see
    `PipelineSettings`). It is not thread-safe: run one per consumer.
    """

    def __init__(
        self,
        settings: PipelineSettings | None = None,
        *,
        redactor: Redactor | None = None,
        dedup_state: DedupState | None = None,
    ) -> None:
        self.settings = settings or PipelineSettings()
        self.counters = PipelineCounters()
        self._redactor = redactor if redactor is not None else build_redactor(self.settings.pii_engine)
        self._dedup = Deduplicator(self.settings, dedup_state)

    def run(self, records: Iterable[RecordSubmittedV1]) -> Iterator[Outcome]:
        """Each record's outcome, in order, as the records arrive."""
        for record in records:
            yield self.process(record)

    def process(self, record: RecordSubmittedV1) -> Outcome:
        """The outcome of one record: a `CleanRecord`, a `Rejected` entry or a `Duplicate`."""
        outcome = self._clean(record)
        self.counters.count_outcome(outcome)
        return outcome

    def _clean(self, record: RecordSubmittedV1) -> Outcome:
        content = RecordContent.of(record).map(normalise_text)
        if rejection := validate(record, content, self.settings.max_chars):
            return _rejected(record, rejection)
        content, hits = self._redact(content)
        if rejection := check_quality(content, self.settings):
            return _rejected(record, rejection, hits)
        digest = hashlib.sha256(content.canonical_bytes()).digest()
        doc_id = doc_id_of(record.tenant, record.source, record.record_id)
        # A document is unique within its collection: two knowledge bases may well share one.
        scope = (record.tenant, record.kind, document_collection(record) or record.dataset)
        if match := self._dedup.admit(doc_id, scope, digest, content.joined()):
            return Duplicate(
                record.record_id, record.tenant, record.source, match.kind, match.doc_id, match.similarity, hits
            )
        return replace(content.clean_record(record, doc_id, digest.hex()), pii_hits=hits)

    def forget(self, doc_id: str) -> None:
        """Drops a record from the dedup index, so that nothing of an erased record stays behind."""
        self._dedup.forget(doc_id)

    def _redact(self, content: RecordContent) -> tuple[RecordContent, dict[PiiType, int]]:
        hits: dict[PiiType, int] = {}

        def redact(text: str) -> str:
            redaction = self._redactor.redact(text)
            for pii_type, count in redaction.hits.items():
                hits[pii_type] = hits.get(pii_type, 0) + count
            return redaction.text

        redacted = content.map(redact)
        self.counters.count_pii(hits)
        return redacted, hits


def _rejected(record: RecordSubmittedV1, rejection: Rejection, hits: Mapping[PiiType, int] | None = None) -> Rejected:
    return Rejected(record.record_id, record.tenant, record.source, rejection.reason, rejection.detail, hits or {})
