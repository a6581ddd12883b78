"""The ingestion store finds a data subject's documents and examples by metadata, and forgets them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmops_common.events.base import DEFAULT_COLLECTION
from services.ingestion.datasets import Example
from services.ingestion.store import IngestionStore, SubjectSelector


def next_document_version(
    store: IngestionStore,
    doc_id: str,
    tenant: str,
    content_sha256: str,
    metadata: dict[str, Any] | None = None,
    collection: str = DEFAULT_COLLECTION,
) -> int | None:
    """The version the document gets, recorded at once, as ingestion does once it has published it."""
    version = store.pending_document_version(doc_id, content_sha256, collection)
    if version is not None:
        store.record_document_version(doc_id, tenant, version, content_sha256, metadata, collection)
    return version


def example(record_id: str, user: str | int) -> Example:
    return Example(record_id, "chat", f"question {record_id}", "answer", None, (("user_id", user),))


def test_a_subject_is_found_by_metadata_and_removed_from_examples_and_documents(tmp_path: Path) -> None:
    store = IngestionStore(tmp_path / "ingestion.sqlite")
    next_document_version(store, "doc-u1", "acme", "h1", {"user_id": "u1"})
    next_document_version(store, "doc-u2", "acme", "h2", {"user_id": "u2"})
    next_document_version(store, "doc-other-tenant", "globex", "h3", {"user_id": "u1"})
    store.add_example("acme", "support", example("e1", "u1"), "event-1", "ex-1")
    store.add_example("acme", "faq", example("e2", "u1"), "event-2", "ex-2")
    store.add_example("acme", "support", example("e3", "u2"), "event-3", "ex-3")
    store.add_example("acme", "support", example("e4", 7), "event-4", "ex-4")
    subject = SubjectSelector("user_id", "u1")

    assert store.live_documents("acme", subject) == ["doc-u1"]
    assert store.remove_examples("acme", subject) == ({"support": 1, "faq": 1}, ["ex-1", "ex-2"])
    store.erase_documents(["doc-u1"])

    assert store.live_documents("acme", subject) == []
    assert store.live_documents("globex", subject) == ["doc-other-tenant"]
    assert [e.record_id for e, _ in store.examples("acme", "support")] == sorted(
        ["e3", "e4"], key=lambda r: example(r, "u2" if r == "e3" else 7).sha256
    )
    assert store.remove_examples("acme", SubjectSelector("user_id", 7)) == ({"support": 1}, ["ex-4"])
    assert store.ledger.counters("acme", "support") == {"erased": 2}
    # An erased document that comes again is a new version, not "unchanged".
    assert next_document_version(store, "doc-u1", "acme", "h1", {"user_id": "u1"}) == 2


def test_erasing_by_doc_id_stays_in_the_tenant(tmp_path: Path) -> None:
    store = IngestionStore(tmp_path / "ingestion.sqlite")
    next_document_version(store, "doc-1", "acme", "h1")

    assert store.live_documents("globex", "doc-1") == []
    assert store.live_documents("acme", "doc-1") == ["doc-1"]


def test_pending_changes_are_settled_by_a_seal_but_later_ones_stay(tmp_path: Path) -> None:
    store = IngestionStore(tmp_path / "ingestion.sqlite")
    store.add_example("acme", "support", example("e1", "u1"), "event-1")
    store.add_example("acme", "support", example("e2", "u1"), "event-2")
    covered = store.ledger.pending("acme", "support")
    store.add_example("acme", "support", example("e3", "u1"), "event-3")

    store.ledger.settle(covered)

    assert covered.added == 2
    left = store.ledger.pending("acme", "support")
    assert (left.added, left.changed_at is not None) == (1, True)
    store.ledger.settle(left)
    assert [p.dataset for p in store.ledger.changed()] == []
    assert store.ledger.exists("acme", "support")
    assert not store.ledger.exists("acme", "nope")


def test_a_document_gets_a_new_version_when_it_moves_to_another_collection(tmp_path: Path) -> None:
    store = IngestionStore(tmp_path / "ingestion.sqlite")
    assert next_document_version(store, "doc-1", "acme", "h1") == 1
    assert next_document_version(store, "doc-2", "acme", "h2", collection="kb1") == 1
    assert next_document_version(store, "doc-3", "globex", "h3", collection="kb1") == 1

    assert next_document_version(store, "doc-2", "acme", "h2", collection="kb1") is None
    assert next_document_version(store, "doc-1", "acme", "h1", collection="kb1") == 2

    assert store.collection_documents("acme", "kb1") == ["doc-1", "doc-2"]
    assert store.collection_documents("acme", "default") == []
    store.erase_documents(["doc-2"])
    assert store.collection_documents("acme", "kb1") == ["doc-1"]
    assert next_document_version(store, "doc-2", "acme", "h2", collection="kb1") == 2
