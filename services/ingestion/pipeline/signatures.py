"""MinHash signatures of texts, built with datasketch's batch update over pre-hashed shingles."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

from .shingles import shingle_hashes

Signature = npt.NDArray[np.uint32]
"""`num_perm` minimum hash values; two signatures agree in a share of places that estimates Jaccard."""


def _prehashed(value: int) -> int:
    # The shingles are 32-bit hashes already; datasketch mixes them (MurmurHash3's finaliser) before
    # its permutations, so a second hash per shingle would only cost time.
    return value


class MinHashSigner:
    """Turns a text into the MinHash signature of its word shingles.

    One template `MinHash` holds the permutations, and each text gets a copy of it, as
    `MinHash.bulk` does, so the permutations are drawn once rather than per text.
    """

    def __init__(self, num_perm: int, shingle_size: int, seed: int = 1) -> None:
        self._template = MinHash(num_perm=num_perm, seed=seed, hashfunc=_prehashed)
        self._shingle_size = shingle_size
        self.num_perm = num_perm

    def sign(self, text: str) -> Signature | None:
        """The signature of `text`, or None when it has no words."""
        hashes = shingle_hashes(text, self._shingle_size)
        if not hashes:
            return None
        minhash = self._template.copy()
        minhash.update_batch(hashes)
        signature: Signature = minhash.hashvalues
        return signature
