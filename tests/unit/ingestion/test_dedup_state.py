"""The dedup index survives a restart: exact and near duplicates of records kept before it are still found."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
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


def reopened(path: Path, settings: PipelineSettings, commit_every: int = 1) -> Deduplicator:
    """The index of a process started on `path`; the one before it is left as a killed process leaves it."""
    return Deduplicator(settings, DedupState(path, settings, commit_every))


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


def test_changes_are_committed_in_groups_and_the_file_shows_the_last_commit(tmp_path: Path) -> None:
    settings, path = PipelineSettings(), tmp_path / "dedup.sqlite"
    state = DedupState(path, settings, commit_every=3)
    first = Deduplicator(settings, state)
    bodies = texts(6)
    for number in range(4):  # three commit as a group; the fourth waits in the open one
        admit(first, f"r{number}", bodies[number])

    def committed_slots() -> int:
        # What a process started now would read: a killed process leaves only committed changes.
        with closing(sqlite3.connect(path)) as reader:
            count: int = reader.execute("SELECT count(*) FROM slots").fetchone()[0]
        return count

    assert committed_slots() == 3
    state.flush()
    assert committed_slots() == 4
    admit(first, "r4", bodies[4])
    state.close()  # a clean stop commits the open group
    restarted = reopened(path, settings)
    assert len(restarted) == 5
    assert admit(restarted, "again4", bodies[4]) == Match(DuplicateKind.EXACT, "r4", 1.0)
