"""A record's content as segments: canonical bytes for hashing, stable ids, and the clean record it becomes."""

from __future__ import annotations

import hashlib

from llmops_common.events.data import ChatMessage, RecordSubmittedV1
from services.ingestion.pipeline.content import RecordContent, Segment, doc_id_of


def record(**fields: object) -> RecordSubmittedV1:
    return RecordSubmittedV1.model_validate({"record_id": "r1", "tenant": "acme", "source": "s3", **fields})


def test_a_document_is_one_text_segment_hashed_as_its_utf8_text() -> None:
    content = RecordContent.of(record(kind="document", text="Grüße aus Köln"))

    assert content == RecordContent("document", (Segment("text", "Grüße aus Köln"),))
    assert content.canonical_bytes() == "Grüße aus Köln".encode()


def test_an_example_is_hashed_as_compact_json_of_its_turns() -> None:
    completion = RecordContent.of(record(kind="example", prompt="Hi", completion="Hello"))
    chat = RecordContent.of(
        record(kind="example", messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hé"}])
    )

    assert completion.canonical_bytes() == b'[["prompt","Hi"],["completion","Hello"]]'
    assert chat.canonical_bytes() == '[["user","Hi"],["assistant","Hé"]]'.encode()
    assert chat.joined() == "Hi\n\nHé"


def test_a_missing_completion_is_an_empty_segment() -> None:
    content = RecordContent.of(record(kind="example", prompt="Hi"))

    assert content.segments == (Segment("prompt", "Hi"), Segment("completion", ""))


def test_doc_id_is_stable_and_tells_apart_every_part_of_the_key() -> None:
    doc_id = doc_id_of("acme", "wiki", "page-1")

    assert doc_id == doc_id_of("acme", "wiki", "page-1")
    assert doc_id == hashlib.sha256(b'["acme","wiki","page-1"]').hexdigest()[:32]
    assert len({doc_id, doc_id_of("globex", "wiki", "page-1"), doc_id_of("acme", "wiki2", "page-1")}) == 3
    assert doc_id_of("acme", "a,b", "c") != doc_id_of("acme", "a", "b,c")


def test_the_clean_record_carries_the_content_in_its_shape() -> None:
    source = record(
        kind="example",
        dataset="faq",
        metadata={"lang": "fr"},
        messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Salut"}],
    )
    content = RecordContent.of(source).map(str.upper)

    clean = content.clean_record(source, "d" * 32, "c" * 64)

    assert clean.messages == (ChatMessage(role="user", content="HI"), ChatMessage(role="assistant", content="SALUT"))
    assert (clean.text, clean.prompt, clean.completion) == (None, None, None)
    assert (clean.record_id, clean.tenant, clean.source, clean.kind, clean.dataset) == (
        "r1",
        "acme",
        "s3",
        "example",
        "faq",
    )
    assert clean.metadata == {"lang": "fr"}
    assert (clean.doc_id, clean.content_sha256) == ("d" * 32, "c" * 64)
