"""A mixed corpus through the whole pipeline: exact counts, exact redactions, every reject reason."""

from __future__ import annotations

from collections.abc import Iterator

from llmops_common.events.data import ChatMessage, RecordSubmittedV1
from llmops_common.pii.regex_redactor import RegexRedactor
from services.ingestion.pipeline import (
    CleanRecord,
    Duplicate,
    DuplicateKind,
    IngestionPipeline,
    PiiType,
    PipelineSettings,
    Rejected,
    RejectReason,
)
from services.ingestion.pipeline.content import doc_id_of

RIVER = (
    "The river town of Elmsford grew up around a mill that ground wheat for the farms along the valley. "
    "In the spring the water rose quickly, and the millers learned to open the sluice gates before the first "
    "heavy rains arrived from the hills. Over time the mill gave way to a small textile works, then to a "
    "printing shop that published the weekly paper. Today the old stone building holds a library, a caf\u00e9 and "
    "a room where children learn to repair bicycles. Visitors often walk the towpath at dusk, when herons "
    "stand in the shallows and the bells of the church across the water ring the hour."
)
RIVER_MESSY = "\ufeff " + RIVER.replace(". ", ". \t ").replace("caf\u00e9", "cafe\u0301") + " \r\n\r\n"
RIVER_EDITED = RIVER.replace("heavy rains arrived", "strong storms came")

CONTRACT = (
    "Please send the signed contract to {email} or call me on {phone} or {landline} before Friday. "
    "The deposit was paid with card {card} and the refund goes to IBAN {iban}. Our VPN gateway answers on "
    "{ipv4} and {ipv6}. For the payroll form I need your SSN {ssn} or your National Insurance number {nino}."
)
CONTRACT_JANE = CONTRACT.format(
    email="jane.doe@example.com",
    phone="+44 20 7946 0958",
    landline="(555) 123-4567",
    card="4111 1111 1111 1111",
    iban="GB82 WEST 1234 5698 7654 32",
    ipv4="192.168.10.20",
    ipv6="2001:db8::8a2e:370:7334",
    ssn="123-45-6789",
    nino="AB 12 34 56 C",
)
CONTRACT_JOHN = CONTRACT.format(
    email="john.smith@example.org",
    phone="+1 212 555 0147",
    landline="555-987-6543",
    card="5500-0000-0000-0004",
    iban="DE89 3704 0044 0532 0130 00",
    ipv4="10.1.2.3",
    ipv6="fe80::1",
    ssn="234-56-7890",
    nino="CE987654A",
)
CONTRACT_REDACTED = (
    "Please send the signed contract to [EMAIL] or call me on [PHONE] or [PHONE] before Friday. "
    "The deposit was paid with card [CREDIT_CARD] and the refund goes to IBAN [IBAN]. Our VPN gateway answers on "
    "[IP_ADDRESS] and [IP_ADDRESS]. For the payroll form I need your SSN [NATIONAL_ID] or your National Insurance "
    "number [NATIONAL_ID]."
)
LOOKALIKES = (
    "Order 4111 1111 1111 1112 is not a card number, and GB82 WEST 1234 5698 7654 33 is not a valid IBAN "
    "either. The address 999.1.1.1 does not exist. In 2024 the ticket cost $1,299.99 and the museum opened "
    "at 10:30 on 2024-05-01."
)
SETTINGS = PipelineSettings(max_chars=2000)


def doc(record_id: str, text: str, tenant: str = "acme") -> RecordSubmittedV1:
    return RecordSubmittedV1(record_id=record_id, tenant=tenant, source="wiki", kind="document", text=text)


def example(record_id: str, **fields: object) -> RecordSubmittedV1:
    return RecordSubmittedV1.model_validate(
        {"record_id": record_id, "tenant": "acme", "source": "chats", "kind": "example", "dataset": "faq", **fields}
    )


def corpus() -> Iterator[RecordSubmittedV1]:
    yield doc("river", RIVER)
    yield doc("river-copy", RIVER_MESSY)
    yield doc("river-edited", RIVER_EDITED)
    yield doc("contract-jane", CONTRACT_JANE)
    yield doc("lookalikes", LOOKALIKES)
    yield doc("contract-john", CONTRACT_JOHN)
    yield doc("blank", " \n\t \u200b ")
    yield doc("huge", "word " * 500)
    yield example("no-completion", prompt="Tell me a joke")
    yield example(
        "no-assistant", messages=[{"role": "user", "content": "Hi"}, {"role": "system", "content": "Be nice"}]
    )
    yield doc("short", "Hello there")
    yield doc("symbols", "Price list: $$$ ### @@@ !!! *** %%% ^^^ &&& ~~~ +++ === |||")
    yield doc("spam", "Buy now buy now buy now buy now buy now buy now")
    yield doc(
        "echo", "Subscribe to our channel\nSubscribe to our channel\nSubscribe to our channel\nThanks for watching"
    )
    yield example("capital", prompt="What is the capital of France?", completion="Paris.")
    yield example("capital-again", prompt="  What is the capital\tof France? ", completion="Paris.\n")
    yield example(
        "greeting",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Translate 'good morning' to French."},
            {"role": "assistant", "content": "Bonjour."},
        ],
    )
    yield doc("river", RIVER, tenant="globex")


def outcomes_by_id(pipeline: IngestionPipeline) -> dict[tuple[str, str], object]:
    return {(outcome.tenant, outcome.record_id): outcome for outcome in pipeline.run(corpus())}


def test_the_mixed_corpus_is_counted_exactly() -> None:
    pipeline = IngestionPipeline(SETTINGS, redactor=RegexRedactor())

    outcomes = outcomes_by_id(pipeline)

    assert len(outcomes) == 18
    assert pipeline.counters.as_dict() == {
        "seen": 18,
        "accepted": 6,
        "rejected": {
            "empty": 1,
            "too_long": 1,
            "malformed": 2,
            "too_few_words": 1,
            "symbol_ratio": 1,
            "repetition": 2,
        },
        "exact_duplicates": 3,
        "near_duplicates": 1,
        # Both contracts were redacted; the second is then an exact duplicate of the first.
        "pii_hits": {"EMAIL": 2, "PHONE": 4, "CREDIT_CARD": 2, "IBAN": 2, "IP_ADDRESS": 4, "NATIONAL_ID": 4},
        "records_with_pii": 2,
    }


def test_accepted_records_are_normalised_and_redacted() -> None:
    outcomes = outcomes_by_id(IngestionPipeline(SETTINGS, redactor=RegexRedactor()))

    accepted = {key: outcome for key, outcome in outcomes.items() if isinstance(outcome, CleanRecord)}
    assert sorted(accepted) == [
        ("acme", "capital"),
        ("acme", "contract-jane"),
        ("acme", "greeting"),
        ("acme", "lookalikes"),
        ("acme", "river"),
        ("globex", "river"),
    ]
    contract = accepted["acme", "contract-jane"]
    assert contract.text == CONTRACT_REDACTED
    assert contract.doc_id == doc_id_of("acme", "wiki", "contract-jane")
    assert accepted["acme", "lookalikes"].text == LOOKALIKES
    assert accepted["acme", "river"].text == RIVER
    assert accepted["acme", "river"].doc_id != accepted["globex", "river"].doc_id
    capital = accepted["acme", "capital"]
    assert (capital.prompt, capital.completion, capital.text, capital.messages) == (
        "What is the capital of France?",
        "Paris.",
        None,
        None,
    )
    assert accepted["acme", "greeting"].messages == (
        ChatMessage(role="system", content="You are a helpful assistant."),
        ChatMessage(role="user", content="Translate 'good morning' to French."),
        ChatMessage(role="assistant", content="Bonjour."),
    )


def test_duplicates_name_the_record_they_duplicate() -> None:
    outcomes = outcomes_by_id(IngestionPipeline(SETTINGS, redactor=RegexRedactor()))

    river = doc_id_of("acme", "wiki", "river")
    assert outcomes["acme", "river-copy"] == Duplicate("river-copy", "acme", "wiki", DuplicateKind.EXACT, river, 1.0)
    assert outcomes["acme", "contract-john"] == Duplicate(
        "contract-john", "acme", "wiki", DuplicateKind.EXACT, doc_id_of("acme", "wiki", "contract-jane"), 1.0
    )
    assert outcomes["acme", "capital-again"] == Duplicate(
        "capital-again", "acme", "chats", DuplicateKind.EXACT, doc_id_of("acme", "chats", "capital"), 1.0
    )
    edited = outcomes["acme", "river-edited"]
    assert isinstance(edited, Duplicate)
    assert (edited.kind, edited.duplicate_of) == (DuplicateKind.NEAR, river)
    assert 0.8 <= edited.similarity < 1.0


def test_every_reject_carries_its_reason_and_detail() -> None:
    outcomes = outcomes_by_id(IngestionPipeline(SETTINGS, redactor=RegexRedactor()))

    rejects = sorted((o.record_id, o.reason, o.detail) for o in outcomes.values() if isinstance(o, Rejected))
    assert rejects == [
        ("blank", RejectReason.EMPTY, "document has no text after normalisation"),
        ("echo", RejectReason.REPETITION, "duplicate lines 0.50 > 0.3"),
        ("huge", RejectReason.TOO_LONG, "2499 characters > 2000"),
        ("no-assistant", RejectReason.MALFORMED, "chat example has no assistant turn"),
        ("no-completion", RejectReason.MALFORMED, "example has no completion"),
        ("short", RejectReason.TOO_FEW_WORDS, "2 words < 3"),
        ("spam", RejectReason.REPETITION, "top 2-gram covers 1.00 of words > 0.3"),
        ("symbols", RejectReason.SYMBOL_RATIO, "symbol ratio 0.63 > 0.3"),
    ]
    blank = outcomes["acme", "blank"]
    assert isinstance(blank, Rejected)
    assert blank.as_row() == {
        "record_id": "blank",
        "tenant": "acme",
        "source": "wiki",
        "reason": "empty",
        "detail": "document has no text after normalisation",
    }


def test_the_pipeline_streams_one_outcome_per_record_as_records_arrive() -> None:
    pipeline = IngestionPipeline(SETTINGS, redactor=RegexRedactor())
    records = corpus()

    outcomes = pipeline.run(records)

    first = next(outcomes)
    assert isinstance(first, CleanRecord)
    assert first.record_id == "river"
    assert pipeline.counters.seen == 1
    assert next(records).record_id == "river-copy"


def test_a_new_version_of_a_document_is_not_a_duplicate_of_its_old_version() -> None:
    pipeline = IngestionPipeline(SETTINGS, redactor=RegexRedactor())

    first = pipeline.process(doc("river", RIVER))
    edited = pipeline.process(doc("river", RIVER_EDITED))
    other = pipeline.process(doc("river-2", RIVER))

    assert isinstance(first, CleanRecord)
    assert isinstance(edited, CleanRecord)
    assert edited.doc_id == first.doc_id
    assert edited.content_sha256 != first.content_sha256
    # The old text left the index with its version, so the same text elsewhere is a near-dup of the new one.
    assert isinstance(other, Duplicate)
    assert other.kind == DuplicateKind.NEAR


def test_a_document_is_unique_within_its_collection_and_two_collections_may_share_it() -> None:
    pipeline = IngestionPipeline(SETTINGS, redactor=RegexRedactor())

    kb1 = pipeline.process(doc("river", RIVER).model_copy(update={"collection": "kb1"}))
    kb2 = pipeline.process(doc("river-kb2", RIVER).model_copy(update={"collection": "kb2"}))
    again = pipeline.process(doc("river-again", RIVER).model_copy(update={"collection": "kb1"}))
    default = pipeline.process(doc("river-default", RIVER))

    assert isinstance(kb1, CleanRecord)
    assert isinstance(kb2, CleanRecord)
    assert isinstance(default, CleanRecord)
    assert (kb1.collection, kb2.collection, default.collection) == ("kb1", "kb2", "default")
    assert isinstance(again, Duplicate)
    assert again.duplicate_of == kb1.doc_id


def test_pii_counts_only_records_that_reached_redaction() -> None:
    pipeline = IngestionPipeline(SETTINGS, redactor=RegexRedactor())

    pipeline.process(doc("mail-only", "Write to a@example.com"))
    pipeline.process(example("broken", prompt="Mail b@example.com"))

    assert pipeline.counters.pii_hits == {PiiType.EMAIL: 1}
    assert pipeline.counters.records_with_pii == 1
