"""RAG: chunks from the retriever over Kafka request/reply, and the context message made of them."""

from __future__ import annotations

from collections.abc import Sequence

from llmops_common.errors import NotFoundError, RequestTimeoutError
from llmops_common.events import RetrievalAnsweredV1, RetrievalRequestedV1
from llmops_common.events.retrieval import COLLECTION_NOT_FOUND, RetrievedChunk
from llmops_common.kafka.request_reply import Requester
from llmops_common.topics import RETRIEVAL_REQUESTS

from .errors import BadRequestError
from .protocol import RagBody

CONTEXT_HEADER = "Answer using the following context. Cite sources by their number.\n"


class RetrievalTimeoutError(RequestTimeoutError):
    """The retriever did not answer in time, and the request did not ask to go on without context."""

    code = "retriever_timeout"


class CollectionNotFoundError(NotFoundError):
    """`rag.collection` names a collection in which the tenant has no document: 404, rather than an answer
    made up without the context the caller asked for."""

    code = COLLECTION_NOT_FOUND
    param = "rag.collection"


class RagRetriever:
    """Asks the retriever for a tenant's chunks."""

    def __init__(self, requester: Requester[RetrievalAnsweredV1], timeout: float) -> None:
        self._requester = requester
        self._timeout = timeout
        self._ready = False

    async def get_ready(self) -> None:
        """Run in the background from the service's start: the reply consumer takes its position, then
        rests until the first retrieval instead of polling for replies nobody awaits."""
        await self._requester.wait_ready(timeout=None)
        self._ready = True

    async def _wait_ready(self) -> None:
        # The reply consumer starts with the service's broker, after the app is built: a request that
        # comes before `get_ready` is done waits until it holds its position, so no reply passes unseen.
        if not self._ready:
            await self._requester.wait_ready(timeout=self._timeout)
            self._ready = True

    async def retrieve(self, request_id: str, tenant: str, query: str, rag: RagBody) -> list[RetrievedChunk]:
        """The top chunks; [] when the retriever is late and the request accepts no context."""
        if not query.strip():
            raise BadRequestError("rag needs a question: the request has no user text to search with", param="rag")
        event = RetrievalRequestedV1(
            request_id=request_id, tenant=tenant, collection=rag.collection, query=query[:8192], top_k=rag.top_k
        )
        try:
            await self._wait_ready()
            answer = await self._requester.request(event, topic=RETRIEVAL_REQUESTS.name, timeout=self._timeout)
        except (RequestTimeoutError, TimeoutError) as error:
            if rag.on_timeout == "no_context":
                return []
            raise RetrievalTimeoutError(
                f"the retriever did not answer within {self._timeout:g}s; "
                'send rag.on_timeout="no_context" to answer without retrieved context'
            ) from error
        if answer.error_code == COLLECTION_NOT_FOUND:
            raise CollectionNotFoundError(f"no collection {rag.collection!r}: ingest documents into it first")
        if answer.error is not None:
            raise BadRequestError(f"retrieval failed: {answer.error}", param="rag")
        return answer.chunks


def context_text(chunks: Sequence[RetrievedChunk], max_chars: int) -> tuple[str, int]:
    """The chunks numbered as sources, cut to `max_chars` in all; and how many of them it holds."""
    parts, used = [CONTEXT_HEADER], len(CONTEXT_HEADER)
    for number, chunk in enumerate(chunks, start=1):
        part = f"[{number}] {chunk.text}\n"
        if used + len(part) > max_chars:
            break
        parts.append(part)
        used += len(part)
    return "".join(parts), len(parts) - 1
