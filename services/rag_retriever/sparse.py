"""BM25-style sparse vectors over the embedding model's word pieces, for the keyword half of hybrid search.

A dimension is a word-piece id of the model's tokenizer (about 30k of them), so no vocabulary has to
be built or stored. The document side weighs each term by its BM25 term-frequency part, saturated by
`k1` and normalised by the chunk's length against `avg_tokens`; the query side gives each distinct
term a weight of 1. The inverse document frequency is left to the store: the collection's sparse
vector is configured with Qdrant's IDF modifier, so the score of a chunk is the BM25 sum over the
query's terms, with IDF taken from the live corpus rather than frozen at indexing time.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokenizers import Tokenizer

from .errors import RetrieverConfigError


@dataclass(frozen=True, slots=True)
class SparseVector:
    """Non-zero dimensions in ascending order, and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError(f"{len(self.indices)} indices but {len(self.values)} values")

    @property
    def is_empty(self) -> bool:
        """Whether no dimension is set: a query of punctuation only, say."""
        return not self.indices


@dataclass(frozen=True, slots=True)
class Bm25Params:
    """The two BM25 constants, and the chunk length that counts as average."""

    k1: float = 1.2
    """Term-frequency saturation: the higher, the more a repeated term adds."""
    b: float = 0.75
    """Length normalisation: 0 ignores the chunk's length, 1 scales fully by it."""
    avg_tokens: float = 120.0
    """The typical chunk length in kept word pieces; a fixed figure, since chunks are size-capped."""

    def __post_init__(self) -> None:
        if self.k1 < 0 or not 0 <= self.b <= 1 or self.avg_tokens <= 0:
            raise RetrieverConfigError(f"BM25 needs k1 >= 0, 0 <= b <= 1 and avg_tokens > 0, got {self}")


class Bm25Encoder:
    """Turns chunks and queries into sparse vectors over the tokenizer's word-piece ids."""

    def __init__(self, tokenizer: Tokenizer, params: Bm25Params | None = None) -> None:
        self._tokenizer = tokenizer
        self.params = params or Bm25Params()
        self._ignored = frozenset(_ignored_ids(tokenizer))

    def encode_document(self, text: str) -> SparseVector:
        """The document-side vector of `text`."""
        return self.encode_document_tokens(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def encode_document_tokens(self, token_ids: Sequence[int]) -> SparseVector:
        """The document-side vector of a chunk already tokenized (see `Chunk.token_ids`)."""
        counts = Counter(token for token in token_ids if token not in self._ignored)
        length = sum(counts.values())
        k1, b = self.params.k1, self.params.b
        norm = k1 * (1 - b + b * length / self.params.avg_tokens)
        terms = sorted(counts)
        return SparseVector(tuple(terms), tuple(counts[t] * (k1 + 1) / (counts[t] + norm) for t in terms))

    def encode_query(self, text: str) -> SparseVector:
        """The query-side vector of `text`: weight 1 for each distinct term."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        terms = sorted({token for token in ids if token not in self._ignored})
        return SparseVector(tuple(terms), (1.0,) * len(terms))


def _ignored_ids(tokenizer: Tokenizer) -> Iterable[int]:
    """Special tokens and pure punctuation or symbols: frequent, and no keyword a user searches for."""
    for token, token_id in tokenizer.get_vocab(with_added_tokens=True).items():
        piece = token.removeprefix("##")
        if (token.startswith("[") and token.endswith("]")) or all(
            unicodedata.category(char)[0] in "PS" for char in piece
        ):
            yield token_id
