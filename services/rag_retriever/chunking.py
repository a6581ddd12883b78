"""Token-aware chunking with overlap, counted in the embedding model's own word pieces.

A document is tokenized once, with character offsets. Chunks are windows of at most `chunk_tokens`
word pieces, each starting `overlap_tokens` before the previous one ended, and their text is sliced
from the original document by those offsets: it keeps the author's spacing and case rather than
being re-joined from word pieces. Window edges move back to the start of a word, so that a word is
never split into pieces that tokenize differently on their own; only a word longer than a whole
window is cut inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tokenizers import Tokenizer

from .errors import RetrieverConfigError


@dataclass(frozen=True, slots=True)
class Chunk:
    """One window of a document: its position, text, and the word pieces it was cut from."""

    index: int
    text: str
    start: int
    """Offset of the first character in the document."""
    end: int
    """Offset just past the last character in the document."""
    token_ids: tuple[int, ...] = field(repr=False)
    """The word-piece ids of the window (no [CLS]/[SEP]), which the sparse encoder reuses."""

    @property
    def token_count(self) -> int:
        """How many word pieces the chunk holds."""
        return len(self.token_ids)


class Chunker:
    """Splits texts into overlapping windows of word pieces of the model's tokenizer."""

    def __init__(
        self, tokenizer: Tokenizer, chunk_tokens: int = 200, overlap_tokens: int = 40, max_tokens: int | None = None
    ) -> None:
        """`max_tokens` is the model's input limit; a chunk plus [CLS] and [SEP] must fit within it."""
        if chunk_tokens < 1 or not 0 <= overlap_tokens < chunk_tokens:
            raise RetrieverConfigError(
                f"chunks need 1 <= chunk_tokens and 0 <= overlap_tokens < chunk_tokens, "
                f"got {chunk_tokens} and {overlap_tokens}"
            )
        if max_tokens is not None and chunk_tokens + 2 > max_tokens:
            raise RetrieverConfigError(
                f"chunk_tokens={chunk_tokens} plus [CLS] and [SEP] exceeds the model's {max_tokens} tokens"
            )
        self._tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def split(self, text: str) -> list[Chunk]:
        """The chunks of `text` in order; none for a text without a single token."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        ids, offsets, words = encoding.ids, encoding.offsets, encoding.word_ids
        chunks: list[Chunk] = []
        start = covered = 0
        while start < len(ids):
            end = min(start + self.chunk_tokens, len(ids))
            if end < len(ids):
                # Each window must reach past the last one, or a long word could repeat a window.
                end = _word_start_at_or_before(words, end, floor=max(start, covered) + 1)
            first, last = offsets[start][0], offsets[end - 1][1]
            chunks.append(Chunk(len(chunks), text[first:last], first, last, tuple(ids[start:end])))
            if end == len(ids):
                break
            covered = end
            # The next window starts `overlap_tokens` back, but always after this one's start.
            start = _word_start_at_or_before(words, max(end - self.overlap_tokens, start + 1), floor=start + 1)
        return chunks


def _word_start_at_or_before(words: Sequence[int | None], position: int, floor: int) -> int:
    """The closest position in [floor, position] where a new word begins, else `position` itself."""
    candidate = position
    while candidate > floor and words[candidate] is not None and words[candidate] == words[candidate - 1]:
        candidate -= 1
    if words[candidate] is not None and words[candidate] == words[candidate - 1]:
        return position
    return candidate
