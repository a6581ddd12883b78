"""Counts of every step of the pipeline, for the service's metrics and the dataset profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from llmops_common.pii.types import PiiType

from .outcomes import CleanRecord, Duplicate, DuplicateKind, Outcome, Rejected, RejectReason


@dataclass
class PipelineCounters:
    """What the pipeline has seen and done since it was built.

    `seen` equals `accepted` + the rejects + both kinds of duplicates. PII hits count every value
    redacted, including in records that a later step rejected or found to be duplicates, since the
    redaction happened; `records_with_pii` counts the records with at least one hit.
    """

    seen: int = 0
    accepted: int = 0
    rejected: dict[RejectReason, int] = field(default_factory=dict)
    exact_duplicates: int = 0
    near_duplicates: int = 0
    pii_hits: dict[PiiType, int] = field(default_factory=dict)
    records_with_pii: int = 0

    @property
    def rejected_total(self) -> int:
        """All rejects, whatever their reason."""
        return sum(self.rejected.values())

    def count_outcome(self, outcome: Outcome) -> None:
        """Counts one record's outcome."""
        self.seen += 1
        match outcome:
            case CleanRecord():
                self.accepted += 1
            case Rejected(reason=reason):
                self.rejected[reason] = self.rejected.get(reason, 0) + 1
            case Duplicate(kind=DuplicateKind.EXACT):
                self.exact_duplicates += 1
            case Duplicate():
                self.near_duplicates += 1

    def count_pii(self, hits: dict[PiiType, int]) -> None:
        """Counts the PII values redacted in one record."""
        if not hits:
            return
        self.records_with_pii += 1
        for pii_type, count in hits.items():
            self.pii_hits[pii_type] = self.pii_hits.get(pii_type, 0) + count

    def as_dict(self) -> dict[str, int | dict[str, int]]:
        """Every counter as plain JSON: the `ingestion` part of a dataset profile.

        Every reason and PII type is present, with 0 where nothing was counted, so that profiles of
        different versions have the same keys.
        """
        return {
            "seen": self.seen,
            "accepted": self.accepted,
            "rejected": {reason.value: self.rejected.get(reason, 0) for reason in RejectReason},
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "pii_hits": {pii_type.value: self.pii_hits.get(pii_type, 0) for pii_type in PiiType},
            "records_with_pii": self.records_with_pii,
        }
