"""Word shingles of a text, hashed to 32-bit integers in a few vectorised steps.

Near-dup compares the sets of word n-grams of two texts. Hashing each n-gram's string would cost a
Python call per shingle; instead each word is hashed once with CRC-32 (C code, deterministic across
processes, unlike `hash()`), and the n word hashes of a shingle are combined with numpy. MinHash
only needs the hashes to be distinct for distinct shingles, not cryptographic.
"""

from __future__ import annotations

import zlib

import numpy as np

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
"""An odd 64-bit constant (the golden ratio's): position matters, so `a b` and `b a` differ."""
_HALF = np.uint64(32)
_LOW_32 = np.uint64(0xFFFFFFFF)


def shingle_hashes(text: str, size: int) -> list[int]:
    """32-bit hashes of the `size`-word shingles of `text`, lower-cased and split on whitespace.

    A text of fewer than `size` words is one shingle of all its words; an empty text has none.
    """
    words = np.fromiter(map(zlib.crc32, text.lower().encode().split()), dtype=np.uint64)
    if not len(words):
        return []
    size = min(size, len(words))
    count = len(words) - size + 1
    hashes = words[:count].copy()
    for offset in range(1, size):
        hashes = hashes * _MULTIPLIER + words[offset : offset + count]
    folded: list[int] = ((hashes ^ (hashes >> _HALF)) & _LOW_32).tolist()
    return folded
