"""Turns an OpenAI request into engine requests: prompt reference, retrieved context, chat template,
caps and the key's limits. Nothing here touches HTTP or Kafka directly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from llmops_common.auth.keyring import Principal
from llmops_common.engines.base import ChatTokenizer, SamplingParams
from llmops_common.events.retrieval import RetrievedChunk
from llmops_common.prompts.rendering import PromptRenderer
from llmops_common.prompts.templates import RenderedPrompt

from .errors import BadRequestError, GenerationFailedError
from .protocol import ChatCompletionRequest, CompletionRequest, PromptRefBody, Source
from .request_validation import RequestInvalidError
from .retrieval import RagRetriever, context_text
from .settings import Settings

Kind = Literal["chat", "completion"]


@dataclass
class PreparedPrompts:
    """The templated prompts of a request and what went into them."""

    prompts: list[str]
    prompt_tokens: list[int]
    sampling: SamplingParams
    prompt_name: str | None = None
    prompt_version: int | None = None
    sources: list[Source] = field(default_factory=list)


class PromptPreparer:
    """Builds the prompts of chat and text completions."""

    def __init__(
        self,
        settings: Settings,
        tokenizer: ChatTokenizer,
        renderer: PromptRenderer | None,
        retriever: RagRetriever | None,
    ) -> None:
        self._settings = settings
        self._tokenizer = tokenizer
        self._renderer = renderer
        self._retriever = retriever

    def sampling(self, body: ChatCompletionRequest | CompletionRequest) -> SamplingParams:
        """The sampling parameters, with the server's caps applied."""
        max_tokens = body.max_completion_tokens or body.max_tokens or self._settings.default_max_tokens
        if max_tokens > self._settings.max_tokens_cap:
            raise BadRequestError(
                f"max_tokens is {max_tokens}; this server allows at most {self._settings.max_tokens_cap}",
                param="max_tokens",
            )
        if body.n > self._settings.max_n:
            raise BadRequestError(f"n is {body.n}; this server allows at most {self._settings.max_n}", param="n")
        return SamplingParams(
            max_tokens=max_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            seed=body.seed,
            stop=body.stop_sequences(),
        )

    async def chat(self, body: ChatCompletionRequest, principal: Principal, request_id: str) -> PreparedPrompts:
        """One prompt: the referenced prompt's messages, the retrieved context, then the request's messages."""
        messages = [{"role": _template_role(m.role), "content": m.text()} for m in body.messages]
        prepared = PreparedPrompts([], [], self.sampling(body))
        if body.prompt_ref is not None:
            rendered = await self._render(body.prompt_ref, principal.tenant, prepared)
            if rendered.messages is not None:
                head = [{"role": m.role, "content": m.content} for m in rendered.messages]
            else:
                head = [{"role": "user", "content": rendered.text or ""}]
            messages = [*head, *messages]
        if not messages:
            raise BadRequestError("messages is empty: send at least one message", param="messages")
        if body.rag is not None and self._retriever is not None:
            query = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
            chunks = await self._retriever.retrieve(request_id, principal.tenant, query, body.rag)
            context = self._context(chunks, prepared)
            if context:
                messages = [{"role": "system", "content": context}, *messages]
        prompt = self._tokenizer.render_chat(messages)
        prepared.prompts = [prompt]
        prepared.prompt_tokens = [self._tokenizer.count_tokens(prompt)]
        return prepared

    async def completion(self, body: CompletionRequest, principal: Principal, request_id: str) -> PreparedPrompts:
        """One prompt per `prompt` entry, each after the referenced prompt and the retrieved context."""
        prompts = body.prompts()
        if len(prompts) > self._settings.max_prompts_per_request:
            raise RequestInvalidError(
                f"prompt lists {len(prompts)} prompts; this server allows at most "
                f"{self._settings.max_prompts_per_request} per request",
                param="prompt",
            )
        prepared = PreparedPrompts([], [], self.sampling(body))
        if body.prompt_ref is not None:
            rendered = await self._render(body.prompt_ref, principal.tenant, prepared)
            head = (
                self._tokenizer.render_chat([{"role": m.role, "content": m.content} for m in rendered.messages])
                if rendered.messages is not None
                else rendered.text or ""
            )
            prompts = [head + prompt for prompt in prompts]
        if not prompts or not all(prompts):
            # The engine cannot generate from no tokens: one empty entry is refused like an empty prompt.
            raise BadRequestError("prompt is empty: send a prompt or a prompt_ref", param="prompt")
        if body.rag is not None and self._retriever is not None:
            chunks = await self._retriever.retrieve(request_id, principal.tenant, prompts[0], body.rag)
            context = self._context(chunks, prepared)
            prompts = [context + "\n" + prompt if context else prompt for prompt in prompts]
        prepared.prompts = prompts
        prepared.prompt_tokens = [self._tokenizer.count_tokens(prompt) for prompt in prompts]
        return prepared

    async def _render(self, ref: PromptRefBody, tenant: str, prepared: PreparedPrompts) -> RenderedPrompt:
        if self._renderer is None:
            raise GenerationFailedError("this server has no prompt replica")
        if ref.label is not None and ref.version is not None:
            raise BadRequestError("prompt_ref takes a label or a version, not both", param="prompt_ref")
        event, rendered = await self._renderer.render_off_loop(
            tenant, ref.name, label=ref.label, version=ref.version, values=ref.variables
        )
        prepared.prompt_name, prepared.prompt_version = event.name, event.version
        return rendered

    def _context(self, chunks: Sequence[RetrievedChunk], prepared: PreparedPrompts) -> str:
        if not chunks:
            return ""
        text, used = context_text(chunks, self._settings.rag_context_max_chars)
        prepared.sources = [
            Source(doc_id=c.doc_id, chunk_index=c.chunk_index, score=c.score, metadata=dict(c.metadata))
            for c in chunks[:used]
        ]
        return text if used else ""


def _template_role(role: str) -> str:
    # OpenAI's `developer` role is the newer name of `system`; chat templates know only the latter.
    return "system" if role == "developer" else role
