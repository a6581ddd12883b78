"""The LSH index of near-dup detection: MinHash signatures cut into bands, and buckets per band.

Two records whose signatures agree on every row of some band land in the same bucket and become
candidates; a candidate is a near-dup only if the signatures agree in at least `threshold` of all
places, the MinHash estimate of their Jaccard similarity. That check lets the bands be tuned for
recall: at the defaults (threshold 0.8, 128 permutations) 17 bands of 7 rows find 98% of the pairs
at exactly 0.8 and 99.8% at 0.85, where datasketch's `MinHashLSH` picks 9 bands of 13 and
finds 40% and 69%, without a check.

Why not `datasketch.MinHashLSH` itself: its buckets are a dict of sets of keys, about 400 bytes per
band per record (3.6 KB per record at its 9 bands, measured), and it keeps no signature to check a
candidate with. Here a bucket is a dict entry from a 62-bit band hash to a slot number (about
90 bytes), and signatures live in numpy blocks (4 bytes per permutation): about 2 KB per record with
17 bands and the signature, measured. The signatures are still datasketch's (see `signatures`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .signatures import Signature

BLOCK_ROWS = 4096
"""Signatures are stored in blocks of this many rows, so that growing never copies the index."""
TARGET_RECALL = 0.98
_NO_SCOPE = -1
_LOW_64 = (1 << 64) - 1


def choose_bands(threshold: float, num_perm: int, recall: float = TARGET_RECALL) -> tuple[int, int]:
    """The fewest bands (and the rows per band) that make a pair at `threshold` a candidate with `recall`.

    A pair with Jaccard similarity J shares a given band with probability J^rows, so it becomes a
    candidate with probability 1 - (1 - J^rows)^bands.
    """
    for bands in range(2, num_perm + 1):
        rows = num_perm // bands
        if 1 - (1 - threshold**rows) ** bands >= recall:
            return bands, rows
    return num_perm, 1


class NearDuplicateIndex:
    """Signatures by slot number, found again through their bands; the caller hands out the slots.

    Records of different scopes (tenant, kind, dataset) never match: the scope is part of every
    band's hash and is checked again on each candidate.
    """

    def __init__(self, num_perm: int, threshold: float, bands: int | None = None, seed: int = 1) -> None:
        self.bands, self.rows = (bands, num_perm // bands) if bands else choose_bands(threshold, num_perm)
        self._num_perm = num_perm
        self._min_agreeing = threshold * num_perm
        rng = np.random.default_rng(seed)
        self._coefficients = rng.integers(0, 1 << 63, size=self.rows, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._salts = rng.integers(0, 1 << 63, size=self.bands, dtype=np.uint64)
        self._scope_multiplier = int(rng.integers(0, 1 << 63)) * 2 + 1
        self._buckets: dict[int, int | list[int]] = {}
        self._signatures: list[npt.NDArray[np.uint32]] = []
        self._scopes: list[npt.NDArray[np.int32]] = []

    def find(self, signature: Signature, scope: int, exclude: int | None = None) -> tuple[int, float] | None:
        """The most similar indexed slot of `scope` at or above the threshold, and its similarity.

        `exclude` is a slot never to report: an earlier version of the same record.
        """
        candidates: set[int] = set()
        for key in self._band_keys(signature, scope):
            match self._buckets.get(key):
                case int(slot):
                    candidates.add(slot)
                case list(slots):
                    candidates.update(slots)
        best: tuple[int, float] | None = None
        for slot in candidates:
            block, row = divmod(slot, BLOCK_ROWS)
            if slot == exclude or self._scopes[block][row] != scope:
                continue
            agreeing = int(np.count_nonzero(self._signatures[block][row] == signature))
            if agreeing >= self._min_agreeing and (best is None or agreeing / self._num_perm > best[1]):
                best = (slot, agreeing / self._num_perm)
        return best

    def add(self, slot: int, signature: Signature, scope: int) -> None:
        """Indexes `signature` under `slot`, which must be free."""
        block, row = divmod(slot, BLOCK_ROWS)
        while len(self._signatures) <= block:
            self._signatures.append(np.zeros((BLOCK_ROWS, self._num_perm), dtype=np.uint32))
            self._scopes.append(np.full(BLOCK_ROWS, _NO_SCOPE, dtype=np.int32))
        self._signatures[block][row] = signature
        self._scopes[block][row] = scope
        for key in self._band_keys(signature, scope):
            match self._buckets.get(key):
                case None:
                    self._buckets[key] = slot
                case int(other):
                    self._buckets[key] = [other, slot]
                case list(slots):
                    slots.append(slot)

    def discard(self, slot: int) -> None:
        """Forgets `slot`, if it is indexed."""
        block, row = divmod(slot, BLOCK_ROWS)
        if block >= len(self._scopes) or (scope := int(self._scopes[block][row])) == _NO_SCOPE:
            return
        for key in self._band_keys(self._signatures[block][row], scope):
            match self._buckets.get(key):
                case int():
                    del self._buckets[key]
                case list(slots):
                    slots.remove(slot)
                    if len(slots) == 1:
                        self._buckets[key] = slots[0]
        self._scopes[block][row] = _NO_SCOPE

    def __len__(self) -> int:
        return sum(int(np.count_nonzero(scopes != _NO_SCOPE)) for scopes in self._scopes)

    def _band_keys(self, signature: Signature, scope: int) -> list[int]:
        # A multiply-add hash of each band's rows, salted per band and per scope. Wrapping uint64
        # arithmetic is the modulo we want; the top 62 bits fit a small Python int.
        bands = signature[: self.bands * self.rows].astype(np.uint64).reshape(self.bands, self.rows)
        hashes = (bands * self._coefficients).sum(axis=1, dtype=np.uint64) + self._salts
        hashes += np.uint64(scope * self._scope_multiplier & _LOW_64)
        keys: list[int] = (hashes >> np.uint64(2)).tolist()
        return keys
