"""A document's version is recorded only once its event is published: a publish that failed is tried again
by the handler, and the retry publishes the document instead of taking it for unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmops_common.errors import BrokerUnavailableError
from llmops_common.events import DocumentIngestedV1, Event, RecordSubmittedV1
from llmops_common.pii.regex_redactor import RegexRedactor
from services.ingestion.pipeline.content import doc_id_of
from services.ingestion.pipeline.pipeline import IngestionPipeline
from services.ingestion.service import Ingestion
from services.ingestion.store import IngestionStore


class FlakyPublisher:
    """Refuses the first `failures` publishes, as a broker that is away does; keeps what it published."""

    source = "/test"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.published: list[Event] = []

    async def publish(self, event: Event, **_: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailableError("the broker did not take 1 event(s) within 10s; try again")
        self.published.append(event)


async def test_a_document_whose_publish_failed_is_published_when_its_record_is_tried_again(tmp_path: Path) -> None:
    publisher = FlakyPublisher(failures=1)
    store = IngestionStore(tmp_path / "ingestion.sqlite")
    ingestion = Ingestion(IngestionPipeline(redactor=RegexRedactor()), store, publisher)  # type: ignore[arg-type]
    text = "Refunds are paid back to the original card within five working days."
    record = RecordSubmittedV1(record_id="faq-1", tenant="acme", source="kb", kind="document", text=text)

    with pytest.raises(BrokerUnavailableError):
        await ingestion.ingest(record, "event-1")
    await ingestion.ingest(record, "event-1")  # the handler's retry
    await ingestion.ingest(record, "event-2")  # the same content again: nothing to publish

    [published] = publisher.published
    assert isinstance(published, DocumentIngestedV1)
    assert (published.doc_id, published.version, published.text) == (doc_id_of("acme", "kb", "faq-1"), 1, text)
