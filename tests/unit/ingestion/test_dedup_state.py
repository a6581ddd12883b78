"""The dedup index survives a restart: exact and near duplicates of records kept before it are still found."""

from __future__ import annotations

import hashlib
from pathlib import Path

from services.ingestion.pipeline.config import PipelineSettings
from services.ingestion.pipeline.dedup import Deduplicator, Match, Scope
from services.ingestion.pipeline.dedup_state import DedupState
from services.ingestion.pipeline.outcomes import DuplicateKind

ACME: Scope = ("acme", "example", "support")
TEXT = " ".join(f"word{n}" for n in range(200))
NEAR_TEXT = TEXT.replace("word100 word101", "other100 other101")


def texts(count: int) -> list[str]:
    return [" ".join(f"t{n}w{k}" for k in range(60)) for n in range(count)]


def admit(dedup: Deduplicator, doc_id: str, text: str, scope: Scope = ACME) -> Match | None:
    return dedup.admit(doc_id, scope, hashlib.sha256(text.encode()).digest(), text)


def reopened(path: Path, settings: PipelineSettings) -> Deduplicator:
    return Deduplicator(settings, DedupState(path, settings))


def test_exact_and_near_duplicates_of_records_kept_before_a_restart_are_found(tmp_path: Path) -> None:
    settings, path = PipelineSettings(), tmp_path / "dedup.sqlite"
    first = reopened(path, settings)
    assert admit(first, "a", TEXT) is None
    assert admit(first, "other-scope", TEXT, ("globex", "example", None)) is None

    second = reopened(path, settings)

    assert len(second) == 2
    assert admit(second, "b", TEXT) == Match(DuplicateKind.EXACT, "a", 1.0)
    near = admit(second, "c", NEAR_TEXT)
    assert near is not None
    assert (near.kind, near.doc_id) == (DuplicateKind.NEAR, "a")
    assert admit(second, "d", TEXT, ("initech", "example", None)) is None  # scopes stay apart after a restart


def test_a_restarted_capped_index_answers_as_one_that_never_stopped(tmp_path: Path) -> None:
    settings, path = PipelineSettings(max_indexed_records=3), tmp_path / "dedup.sqlite"
    bodies = texts(6)
    before = [("r0", 0), ("r1", 1), ("r2", 2), ("r3", 3), ("forget", 1)]  # r3 evicts r0; r1 is erased
    after = [("again0", 0), ("again1", 1), ("again3", 3), ("r4", 4), ("again2", 2), ("again4", 4), ("r5", 5)]
    never_stopped = Deduplicator(settings)
    restarted = reopened(path, settings)

    def run(dedup: Deduplicator, steps: list[tuple[str, int]]) -> list[Match | None]:
        results: list[Match | None] = []
        for doc_id, body in steps:
            if doc_id == "forget":
                dedup.forget(f"r{body}")
            else:
                results.append(admit(dedup, doc_id, bodies[body]))
        return results

    run(never_stopped, before)
    run(restarted, before)
    restarted = reopened(path, settings)

    expected = run(never_stopped, after)
    assert run(restarted, after) == expected
    assert expected[2] == Match(DuplicateKind.EXACT, "r3", 1.0)  # kept before the restart, found after it
    assert expected[:2] == [None, None]  # evicted, and erased, before the restart
    assert len(restarted) == len(never_stopped) == 3


def test_a_file_written_with_other_minhash_settings_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "dedup.sqlite"
    first = reopened(path, PipelineSettings(num_perm=128))
    assert admit(first, "a", TEXT) is None

    second = reopened(path, PipelineSettings(num_perm=64))

    assert len(second) == 0
    assert admit(second, "b", TEXT) is None
