"""The counters add up every outcome and every PII hit, and export them with every key present."""

from __future__ import annotations

from llmops_common.pii.types import PiiType
from services.ingestion.pipeline.counters import PipelineCounters
from services.ingestion.pipeline.outcomes import CleanRecord, Duplicate, DuplicateKind, Rejected, RejectReason

CLEAN = CleanRecord("r1", "acme", "s", "document", None, {}, "d" * 32, "c" * 64, text="Hello there world")


def test_outcomes_and_pii_hits_are_counted() -> None:
    counters = PipelineCounters()

    counters.count_outcome(CLEAN)
    counters.count_outcome(Rejected("r2", "acme", "s", RejectReason.EMPTY, "document has no text"))
    counters.count_outcome(Rejected("r3", "acme", "s", RejectReason.EMPTY, "document has no text"))
    counters.count_outcome(Duplicate("r4", "acme", "s", DuplicateKind.EXACT, "d" * 32, 1.0))
    counters.count_outcome(Duplicate("r5", "acme", "s", DuplicateKind.NEAR, "d" * 32, 0.9))
    counters.count_pii({PiiType.EMAIL: 2, PiiType.IBAN: 1})
    counters.count_pii({})
    counters.count_pii({PiiType.EMAIL: 1})

    assert counters.rejected_total == 2
    assert counters.as_dict() == {
        "seen": 5,
        "accepted": 1,
        "rejected": {
            "empty": 2,
            "too_long": 0,
            "malformed": 0,
            "too_few_words": 0,
            "symbol_ratio": 0,
            "repetition": 0,
        },
        "exact_duplicates": 1,
        "near_duplicates": 1,
        "pii_hits": {"EMAIL": 3, "PHONE": 0, "CREDIT_CARD": 0, "IBAN": 1, "IP_ADDRESS": 0, "NATIONAL_ID": 0},
        "records_with_pii": 2,
    }
