"""hit@k and MRR on labelled queries, over scripted retriever answers: the requests sent, the means, and
why a set goes unmeasured. The real retriever answers in tests/integration/evaluator/test_retrieval_scores.py."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest

from llmops_common.errors import RequestTimeoutError
from llmops_common.events import EvalCompletedV1, RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.events.retrieval import RetrievedChunk
from llmops_common.events.training import MetricDelta
from services.evaluator.retrieval_eval import (
    NOT_ASKED,
    LabelledQuery,
    RetrievalScores,
    labelled_queries,
    relevant_doc_ids,
    score_retrieval_set,
)

Row = dict[str, object]


def row(sha: str, prompt: str | None, **metadata: object) -> Row:
    """A dataset row as `read_dataset_rows` gives it (metadata decoded from its JSON text)."""
    return {"example_sha256": sha, "record_id": f"r-{sha}", "prompt": prompt, "metadata": metadata}


class ScriptedRetriever:
    """Answers each query with the documents scripted for it, in order, and records the requests."""

    def __init__(self, ranked: Mapping[str, Sequence[str]], late: frozenset[str] = frozenset()) -> None:
        self.ranked = ranked
        self.late = late
        self.requests: list[RetrievalRequestedV1] = []

    async def __call__(self, request: RetrievalRequestedV1) -> RetrievalAnsweredV1:
        self.requests.append(request)
        if request.query in self.late:
            raise RequestTimeoutError("no reply to llmops.retrieval.requested.v1 on replies within 5s")
        chunks = [
            RetrievedChunk(doc_id=doc_id, chunk_index=0, text=doc_id, score=1.0 / rank)
            for rank, doc_id in enumerate(self.ranked[request.query], start=1)
        ]
        return RetrievalAnsweredV1(request_id=request.request_id, chunks=chunks)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["keys", "rotation"]', {"keys", "rotation"}),
        ("keys, rotation ,", {"keys", "rotation"}),
        ("keys", {"keys"}),
        (["keys", 7], {"keys", "7"}),
        ("[not json", set()),
        ("[]", set()),
        ("", set()),
        (None, set()),
        (3, set()),
    ],
)
def test_relevant_doc_ids_are_a_json_list_or_comma_separated(value: object, expected: set[str]) -> None:
    assert relevant_doc_ids(value) == expected


def test_labelled_queries_come_in_hash_order_and_unlabelled_rows_are_counted() -> None:
    rows = [
        row("b2", "How are invoices sent?", relevant_doc_ids="invoices", collection="help"),
        row("a1", "How do I rotate a key?", relevant_doc_ids='["keys"]'),
        row("c3", "No label"),
        row("d4", None, relevant_doc_ids="keys"),
        row("e5", "   ", relevant_doc_ids="keys"),
    ]
    queries, left_out = labelled_queries(rows)
    assert queries == [
        LabelledQuery("r-a1", "How do I rotate a key?", frozenset({"keys"}), "default"),
        LabelledQuery("r-b2", "How are invoices sent?", frozenset({"invoices"}), "help"),
    ]
    assert left_out == 3


async def test_means_over_the_queries_with_each_document_ranked_by_its_best_chunk() -> None:
    rows = [
        row("a", "first", relevant_doc_ids="keys"),
        # "keys" has two chunks before "invoices": the document is second, not third.
        row("b", "second", relevant_doc_ids=json.dumps(["invoices", "missing"]), collection="help"),
        row("c", "third", relevant_doc_ids="passwords"),
        row("d", "fourth", relevant_doc_ids="unranked"),
    ]
    retriever = ScriptedRetriever(
        {
            "first": ["keys", "invoices"],
            "second": ["keys", "keys", "invoices"],
            "third": ["keys", "invoices", "passwords"],
            "fourth": [],
        }
    )
    scores = await score_retrieval_set(
        retriever, reference="labelled@latest", tenant="acme", rows=rows, top_k=3, limit=10, request_prefix="eval-j1"
    )
    assert scores == RetrievalScores(metrics={"hit_at_k": 3 / 4, "mrr": (1 + 1 / 2 + 1 / 3) / 4})
    assert [(r.request_id, r.tenant, r.collection, r.query, r.top_k) for r in retriever.requests] == [
        ("eval-j1:retrieval:0", "acme", "default", "first", 3),
        ("eval-j1:retrieval:1", "acme", "help", "second", 3),
        ("eval-j1:retrieval:2", "acme", "default", "third", 3),
        ("eval-j1:retrieval:3", "acme", "default", "fourth", 3),
    ]


async def test_only_the_first_queries_up_to_the_limit_are_asked() -> None:
    rows = [row("a", "first", relevant_doc_ids="keys"), row("b", "second", relevant_doc_ids="keys")]
    retriever = ScriptedRetriever({"first": ["keys"], "second": ["other"]})
    scores = await score_retrieval_set(
        retriever, reference="set@v1", tenant="acme", rows=rows, top_k=5, limit=1, request_prefix="e"
    )
    assert scores.metrics == {"hit_at_k": 1.0, "mrr": 1.0}
    assert [request.query for request in retriever.requests] == ["first"]


async def test_a_late_retriever_leaves_the_metrics_out_with_a_note_and_stops_asking() -> None:
    rows = [row(sha, sha, relevant_doc_ids="keys") for sha in ("a", "b", "c")]
    retriever = ScriptedRetriever({"b": ["keys"], "c": ["keys"]}, late=frozenset({"a"}))
    scores = await score_retrieval_set(
        retriever, reference="set@latest", tenant="acme", rows=rows, top_k=5, limit=10, request_prefix="e"
    )
    assert scores == RetrievalScores(
        notes=(
            "hit_at_k and mrr not measured on retrieval set set@latest: query 'r-a' got no answer from the "
            "retriever: no reply to llmops.retrieval.requested.v1 on replies within 5s",
        )
    )
    assert [request.query for request in retriever.requests] == ["a"]


async def test_an_error_reply_leaves_the_metrics_out_with_the_retrievers_reason() -> None:
    async def refusing(request: RetrievalRequestedV1) -> RetrievalAnsweredV1:
        return RetrievalAnsweredV1(request_id=request.request_id, error="the index is being rebuilt")

    scores = await score_retrieval_set(
        refusing,
        reference="set@v1",
        tenant="acme",
        rows=[row("a", "q", relevant_doc_ids="k")],
        top_k=5,
        limit=10,
        request_prefix="e",
    )
    assert scores == RetrievalScores(
        notes=(
            "hit_at_k and mrr not measured on retrieval set set@v1: the retriever refused query 'r-a': "
            "the index is being rebuilt",
        )
    )


async def test_a_missing_or_unlabelled_set_is_noted_and_nothing_is_asked() -> None:
    retriever = ScriptedRetriever({})
    missing = await score_retrieval_set(
        retriever, reference="gone@latest", tenant="acme", rows=None, top_k=5, limit=10, request_prefix="e"
    )
    unlabelled = await score_retrieval_set(
        retriever, reference="bare@v1", tenant="acme", rows=[row("a", "q")], top_k=5, limit=10, request_prefix="e"
    )
    assert missing == RetrievalScores(
        notes=("hit_at_k and mrr not measured: retrieval set gone@latest is not a sealed dataset of tenant acme",)
    )
    assert unlabelled == RetrievalScores(
        notes=(
            "1 rows of retrieval set bare@v1 have no query or no relevant_doc_ids",
            "hit_at_k and mrr not measured: retrieval set bare@v1 has no labelled queries",
        )
    )
    assert retriever.requests == []


def test_both_arms_get_the_same_values_and_a_zero_delta() -> None:
    event = EvalCompletedV1(
        eval_id="eval-j1",
        tenant="acme",
        model_name="support",
        adapter_version="lora-j1",
        dataset="d",
        dataset_version="v",
        metrics={"token_f1": 0.5},
        gate_passed=True,
        baseline_metrics={"token_f1": 0.25},
    )
    scores = RetrievalScores(metrics={"hit_at_k": 0.5, "mrr": 0.25})
    updated = scores.added_to(event)
    assert updated.metrics == {"token_f1": 0.5, "hit_at_k": 0.5, "mrr": 0.25}
    assert updated.baseline_metrics == {"token_f1": 0.25, "hit_at_k": 0.5, "mrr": 0.25}
    zero = MetricDelta(mean=0.0, low=0.0, high=0.0)
    assert scores.deltas == {"hit_at_k": zero, "mrr": zero}
    assert NOT_ASKED.added_to(event) == event
    assert NOT_ASKED.deltas == {}
