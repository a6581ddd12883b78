"""The transformers engine's running batch: one KV cache for every active sequence, left-padded.

Sequences join after their own prefill and leave when they finish; rows are padded on the left so
every row's newest token sits in the last column, and the attention mask hides the padding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional
from transformers import DynamicCache


@dataclass
class KVBatch:
    """Keys and values of each layer, `[rows, heads, columns, head_dim]`, and the `[rows, columns]` mask."""

    cache: DynamicCache
    mask: torch.Tensor

    @property
    def rows(self) -> int:
        """How many sequences the batch holds."""
        return int(self.mask.shape[0])

    def _layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        layers: list[Any] = list(self.cache.layers)
        return [(layer.keys, layer.values) for layer in layers]

    @classmethod
    def _of(cls, layers: list[tuple[torch.Tensor, torch.Tensor]], mask: torch.Tensor) -> KVBatch:
        return cls(DynamicCache(ddp_cache_data=layers), mask)

    def without_padding_values(self) -> KVBatch:
        """Zeroes the keys and values at padded columns: a prefill leaves garbage (even NaN) there, and a
        masked column still multiplies its value by a zero weight."""
        keep = self.mask[:, None, :, None].to(torch.bool)
        layers = [(torch.where(keep, k, 0.0), torch.where(keep, v, 0.0)) for k, v in self._layers()]
        return self._of(layers, self.mask)

    def select(self, rows: list[int]) -> KVBatch:
        """Only `rows`, in that order, with columns that are padding in every remaining row dropped."""
        index = torch.tensor(rows, dtype=torch.long, device=self.mask.device)
        mask = self.mask.index_select(0, index)
        first = int(mask.any(dim=0).to(torch.int8).argmax().item())
        layers = [
            (k.index_select(0, index)[:, :, first:], v.index_select(0, index)[:, :, first:]) for k, v in self._layers()
        ]
        return self._of(layers, mask[:, first:])

    def extended(self) -> torch.Tensor:
        """The mask for the next decode step: every row gains one real column."""
        return torch.cat([self.mask, torch.ones((self.rows, 1), dtype=self.mask.dtype, device=self.mask.device)], dim=1)


def _pad_left(tensor: torch.Tensor, columns: int, dim_from_end: int) -> torch.Tensor:
    if columns == 0:
        return tensor
    padding = [0, 0] * (dim_from_end - 1) + [columns, 0]
    return functional.pad(tensor, padding)


def merge(first: KVBatch | None, second: KVBatch) -> KVBatch:
    """`first`'s rows, then `second`'s, padded on the left to the same number of columns."""
    if first is None or first.rows == 0:
        return second
    width = max(first.mask.shape[1], second.mask.shape[1])
    layers = []
    for (k1, v1), (k2, v2) in zip(first._layers(), second._layers(), strict=True):
        pad1, pad2 = width - k1.shape[2], width - k2.shape[2]
        keys = torch.cat([_pad_left(k1, pad1, 2), _pad_left(k2, pad2, 2)], dim=0)
        values = torch.cat([_pad_left(v1, pad1, 2), _pad_left(v2, pad2, 2)], dim=0)
        layers.append((keys, values))
    mask = torch.cat(
        [
            _pad_left(first.mask, width - first.mask.shape[1], 1),
            _pad_left(second.mask, width - second.mask.shape[1], 1),
        ],
        dim=0,
    )
    return KVBatch._of(layers, mask)
