"""Word shingles hash deterministically, ignore case and spacing, and keep word order."""

from __future__ import annotations

import zlib

import numpy as np

from services.ingestion.pipeline.shingles import shingle_hashes
from services.ingestion.pipeline.signatures import MinHashSigner


def test_a_text_of_n_words_has_n_minus_size_plus_one_shingles() -> None:
    assert len(shingle_hashes("one two three four five six seven", 5)) == 3
    assert len(shingle_hashes("one two", 5)) == 1
    assert shingle_hashes("", 5) == []


def test_hashes_are_32_bit_deterministic_and_insensitive_to_case_and_spacing() -> None:
    hashes = shingle_hashes("The quick brown fox jumps over", 3)

    assert hashes == shingle_hashes("the  QUICK brown\nfox jumps over", 3)
    assert all(0 <= value < 1 << 32 for value in hashes)
    # A one-word shingle is that word's CRC-32, folded: the same in every process, unlike hash().
    crc = zlib.crc32(b"fox")
    assert shingle_hashes("fox", 1) == [(crc ^ (crc >> 32)) & 0xFFFFFFFF]


def test_word_order_matters() -> None:
    assert shingle_hashes("alpha beta", 2) != shingle_hashes("beta alpha", 2)


def test_signatures_agree_in_about_the_jaccard_share_of_places() -> None:
    signer = MinHashSigner(num_perm=256, shingle_size=1)
    first = " ".join(f"w{n}" for n in range(100))
    second = " ".join(f"w{n}" for n in range(20, 120))  # 80 shared of 120: Jaccard 2/3

    one, two = signer.sign(first), signer.sign(second)

    assert one is not None
    assert two is not None
    assert one.dtype == np.uint32
    assert abs(float(np.mean(one == two)) - 2 / 3) < 0.1
    assert signer.sign("   ") is None
