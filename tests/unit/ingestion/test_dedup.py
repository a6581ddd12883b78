"""The deduplicator drops exact and near duplicates within a scope, handles new versions, and can be capped."""

from __future__ import annotations

import hashlib

from services.ingestion.pipeline.config import PipelineSettings
from services.ingestion.pipeline.dedup import Deduplicator, Match, Scope
from services.ingestion.pipeline.outcomes import DuplicateKind

ACME: Scope = ("acme", "document", None)
TEXT = " ".join(f"word{n}" for n in range(200))
NEAR_TEXT = TEXT.replace("word100 word101", "other100 other101")
OTHER_TEXT = " ".join(f"thing{n}" for n in range(200))


def admit(dedup: Deduplicator, doc_id: str, text: str, scope: Scope = ACME) -> Match | None:
    return dedup.admit(doc_id, scope, hashlib.sha256(text.encode()).digest(), text)


def test_exact_and_near_duplicates_name_the_kept_record() -> None:
    dedup = Deduplicator(PipelineSettings())

    assert admit(dedup, "a", TEXT) is None
    assert admit(dedup, "b", TEXT) == Match(DuplicateKind.EXACT, "a", 1.0)
    near = admit(dedup, "c", NEAR_TEXT)
    assert near is not None
    assert (near.kind, near.doc_id) == (DuplicateKind.NEAR, "a")
    assert 0.85 < near.similarity < 1.0
    assert admit(dedup, "d", OTHER_TEXT) is None
    assert len(dedup) == 2


def test_scopes_never_see_each_other() -> None:
    dedup = Deduplicator(PipelineSettings())

    assert admit(dedup, "a", TEXT) is None
    assert admit(dedup, "b", TEXT, ("globex", "document", None)) is None
    assert admit(dedup, "c", NEAR_TEXT, ("acme", "example", "faq")) is None
    assert admit(dedup, "d", TEXT, ("acme", "example", "other")) is None


def test_a_new_version_replaces_the_old_one_in_the_index() -> None:
    dedup = Deduplicator(PipelineSettings())

    assert admit(dedup, "a", TEXT) is None
    assert admit(dedup, "a", TEXT) is None
    assert admit(dedup, "a", OTHER_TEXT) is None
    assert admit(dedup, "b", TEXT) is None
    assert admit(dedup, "c", OTHER_TEXT) == Match(DuplicateKind.EXACT, "a", 1.0)
    assert len(dedup) == 2


def test_with_near_dedup_off_only_exact_duplicates_are_dropped() -> None:
    dedup = Deduplicator(PipelineSettings(near_dedup=False))

    assert admit(dedup, "a", TEXT) is None
    assert admit(dedup, "b", NEAR_TEXT) is None
    assert admit(dedup, "c", TEXT) == Match(DuplicateKind.EXACT, "a", 1.0)


def test_a_capped_index_forgets_the_oldest_records() -> None:
    dedup = Deduplicator(PipelineSettings(max_indexed_records=2))
    texts = [" ".join(f"t{n}w{word}" for word in range(50)) for n in range(4)]

    for n, text in enumerate(texts[:3]):
        assert admit(dedup, f"d{n}", text) is None

    assert len(dedup) == 2
    assert admit(dedup, "again0", texts[0]) is None  # d0 was evicted; again0 now evicts d1
    assert admit(dedup, "again1", texts[1]) is None
    assert admit(dedup, "again2", texts[2][:-1] + "x") is None  # d2 is gone too, near-dups included
    # The last two kept are again1 and again2.
    assert admit(dedup, "again1-bis", texts[1]) == Match(DuplicateKind.EXACT, "again1", 1.0)
    assert admit(dedup, "again0-bis", texts[0]) is None
