"""hit@k and MRR of a RAG model's retrieval, on the labelled queries of its policy's retrieval set.

A model's eval policy may name a `retrieval_set`: a sealed dataset of the model's tenant whose rows are
labelled queries. A row's `prompt` is the query and its metadata's `relevant_doc_ids` the documents that
answer it: a JSON list as text (`'["keys", "rotation"]'`) or comma-separated text (`keys, rotation`),
since record metadata holds scalars only; a list is taken too. `collection` in the metadata is optional
(`default`, the collection a document goes into when it names none). Rows without a query or without
relevant documents are left out, and a note says how many.

Each query is asked of the retriever within the evaluated model's tenant, for `retrieval_top_k` chunks,
the way a RAG request (`rag.top_k`) asks for its context. A document's rank is its place among the
distinct documents of those chunks, so k counts chunks: hit@k says whether a context of k chunks holds
a relevant document. Each query is scored by `metrics.retrieval_scores` and the means are reported.

Retrieval does not depend on the adapter, so both arms get the same values and their deltas are exactly
0: the metrics are reported, not gated, unless the gate names them (as a guard they can never regress).
A retriever that does not answer in time, or answers with an error, fails no evaluation: the metrics are
left out and a note, which the evaluator adds to `gate_reasons`, says why; it is not a check and ends
neither in pass nor in fail.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from llmops_common.errors import RequestTimeoutError
from llmops_common.events import EvalCompletedV1, RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.events.base import DEFAULT_COLLECTION
from llmops_common.events.retrieval import RetrievedChunk
from llmops_common.events.training import MetricDelta

from .metrics import RETRIEVAL_METRIC_NAMES, retrieval_scores

AskRetriever = Callable[[RetrievalRequestedV1], Awaitable[RetrievalAnsweredV1]]
"""Sends one retrieval request and returns the reply; raises `RequestTimeoutError` (or `TimeoutError`)
when the retriever is late."""

RELEVANT_KEY = "relevant_doc_ids"
COLLECTION_KEY = "collection"
CONCURRENT_QUERIES = 8
"""Queries in flight at once: the retriever answers one at a time, but each answer also waits on two
Kafka hops, which overlap."""
_MAX_QUERY_CHARS = 8192
_MAX_REQUEST_ID_PREFIX = 100


@dataclass(frozen=True)
class LabelledQuery:
    """One query of a retrieval set and the documents that answer it."""

    query_id: str
    query: str
    relevant_doc_ids: frozenset[str]
    collection: str = DEFAULT_COLLECTION


@dataclass(frozen=True)
class RetrievalScores:
    """What a retrieval set adds to an evaluation: the mean metrics (none when not measured) and notes
    for `gate_reasons`."""

    metrics: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def deltas(self) -> dict[str, MetricDelta]:
        """Candidate minus baseline: exactly 0, since both arms share the retriever."""
        return {name: MetricDelta(mean=0.0, low=0.0, high=0.0) for name in self.metrics}

    def added_to(self, event: EvalCompletedV1) -> EvalCompletedV1:
        """The evaluation with these metrics on both arms."""
        return event.model_copy(
            update={
                "metrics": {**event.metrics, **self.metrics},
                "baseline_metrics": {**event.baseline_metrics, **self.metrics},
            }
        )


NOT_ASKED = RetrievalScores()
"""A model whose policy names no retrieval set."""


def relevant_doc_ids(value: object) -> frozenset[str]:
    """The document ids of a `relevant_doc_ids` metadata value: a list, a JSON list as text, or
    comma-separated text; empty for anything else."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                return frozenset()
        else:
            value = text.split(",")
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(item).strip() for item in value if str(item).strip())


def labelled_queries(rows: Iterable[Mapping[str, object]]) -> tuple[list[LabelledQuery], int]:
    """The labelled queries of a retrieval set's rows, in a stable order (by example hash), and how many
    rows were left out for having no query or no relevant documents."""
    queries: list[LabelledQuery] = []
    left_out = 0
    for row in sorted(rows, key=lambda r: str(r.get("example_sha256"))):
        metadata = row.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        query = row.get("prompt")
        relevant = relevant_doc_ids(metadata.get(RELEVANT_KEY))
        if not isinstance(query, str) or not query.strip() or not relevant:
            left_out += 1
            continue
        collection = metadata.get(COLLECTION_KEY)
        queries.append(
            LabelledQuery(
                query_id=str(row.get("record_id") or row.get("example_sha256")),
                query=query,
                relevant_doc_ids=relevant,
                collection=collection if isinstance(collection, str) and collection else DEFAULT_COLLECTION,
            )
        )
    return queries, left_out


def ranked_doc_ids(chunks: Sequence[RetrievedChunk]) -> list[str]:
    """The distinct documents of ranked chunks, each at the place of its best chunk."""
    return list(dict.fromkeys(chunk.doc_id for chunk in chunks))


class _RetrievalFailedError(Exception):
    """One query got no usable answer; the whole set goes unmeasured."""


async def score_retrieval_set(
    ask: AskRetriever,
    *,
    reference: str,
    tenant: str,
    rows: Sequence[Mapping[str, object]] | None,
    top_k: int,
    limit: int,
    request_prefix: str,
) -> RetrievalScores:
    """hit@k and MRR over the first `limit` labelled queries of `rows` (None: the set is not sealed)."""
    unmeasured = "hit_at_k and mrr not measured"
    if rows is None:
        return RetrievalScores(
            notes=(f"{unmeasured}: retrieval set {reference} is not a sealed dataset of tenant {tenant}",)
        )
    queries, left_out = labelled_queries(rows)
    notes = [f"{left_out} rows of retrieval set {reference} have no query or no {RELEVANT_KEY}"] if left_out else []
    queries = queries[:limit]
    if not queries:
        return RetrievalScores(notes=(*notes, f"{unmeasured}: retrieval set {reference} has no labelled queries"))
    try:
        rankings = await _rankings(ask, queries, tenant=tenant, top_k=top_k, request_prefix=request_prefix)
    except _RetrievalFailedError as error:
        return RetrievalScores(notes=(*notes, f"{unmeasured} on retrieval set {reference}: {error}"))
    scores = [
        retrieval_scores(ranked, query.relevant_doc_ids, top_k) for ranked, query in zip(rankings, queries, strict=True)
    ]
    means = {name: math.fsum(score[name] for score in scores) / len(scores) for name in RETRIEVAL_METRIC_NAMES}
    return RetrievalScores(metrics=means, notes=tuple(notes))


async def _rankings(
    ask: AskRetriever, queries: Sequence[LabelledQuery], *, tenant: str, top_k: int, request_prefix: str
) -> list[list[str]]:
    in_flight = asyncio.Semaphore(CONCURRENT_QUERIES)
    # After one failure the set goes unmeasured anyway: queries not yet asked are not sent, so a retriever
    # that is down costs one timeout per query in flight, not one per query.
    failures: list[str] = []

    async def ranking(number: int, query: LabelledQuery) -> list[str]:
        async with in_flight:
            if failures:
                return []
            request = RetrievalRequestedV1(
                request_id=f"{request_prefix[:_MAX_REQUEST_ID_PREFIX]}:retrieval:{number}",
                tenant=tenant,
                collection=query.collection,
                query=query.query[:_MAX_QUERY_CHARS],
                top_k=top_k,
            )
            try:
                answer = await ask(request)
            except (RequestTimeoutError, TimeoutError) as error:
                detail = str(error) or "the wait for it timed out"
                failures.append(f"query {query.query_id!r} got no answer from the retriever: {detail}")
                return []
            if answer.error is not None:
                failures.append(f"the retriever refused query {query.query_id!r}: {answer.error}")
                return []
            return ranked_doc_ids(answer.chunks)

    rankings = await asyncio.gather(*(ranking(number, query) for number, query in enumerate(queries)))
    if failures:
        raise _RetrievalFailedError(failures[0])
    return list(rankings)
