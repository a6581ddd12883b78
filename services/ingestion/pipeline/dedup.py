"""Exact and near duplicate detection over the records kept so far, within a scope.

A scope is (tenant, kind, dataset) for an example and (tenant, kind, collection) for a document: one
tenant's record never makes another tenant's a duplicate, which would drop data and leak that the other
tenant holds the same text, and two knowledge bases of a tenant may hold the same document.

Each kept record takes a slot. A slot holds the record's `doc_id`, its content key (scope and
sha256 digest, for exact matches) and, with near-dup on, its MinHash signature in the
`NearDuplicateIndex`. A record whose `doc_id` is already indexed is a new version of it: its own
earlier version is never its duplicate, and the new version takes the old one's place.

Memory grows with the records kept: about 300 bytes per record for exact dedup (a dict entry from
a 36-byte key, a dict entry from the doc id, two list slots), plus about 2 KB with near-dup on
(see `banding`); both measured with `tests/bench/bench_ingestion.py`. With `max_indexed_records`
the slots form a ring: the oldest record is forgotten when a new one needs its slot, and memory
stays flat. A new version of a record leaves its old slot empty until the ring comes round to it
(for good, without a cap).

With a `DedupState` every change is written through to disk and the index is rebuilt from it at
start, so that a restart forgets nothing (see `dedup_state`).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from .banding import NearDuplicateIndex
from .config import PipelineSettings
from .dedup_state import DedupState, Scope
from .outcomes import DuplicateKind
from .signatures import MinHashSigner, Signature


@dataclass(frozen=True, slots=True)
class Match:
    """The kept record that a new one duplicates."""

    kind: DuplicateKind
    doc_id: str
    similarity: float


class Deduplicator:
    """Admits a record unless a kept record of its scope has the same content, or nearly the same."""

    def __init__(self, settings: PipelineSettings, state: DedupState | None = None) -> None:
        self._state = state
        self._capacity = settings.max_indexed_records
        self._signer: MinHashSigner | None = None
        self._near: NearDuplicateIndex | None = None
        if settings.near_dedup:
            self._signer = MinHashSigner(settings.num_perm, settings.shingle_size, settings.minhash_seed)
            self._near = NearDuplicateIndex(
                settings.num_perm, settings.near_dup_threshold, settings.lsh_bands, settings.minhash_seed
            )
        self._scope_ids: dict[Scope, int] = {}
        self._slot_by_content: dict[bytes, int] = {}
        self._slot_by_doc: dict[str, int] = {}
        self._doc_ids: list[str | None] = []
        self._content_keys: list[bytes | None] = []
        self._admitted = 0
        if state is not None:
            self._restore(state)

    def admit(self, doc_id: str, scope: Scope, content_digest: bytes, text: str) -> Match | None:
        """None, after indexing the record, when it duplicates no kept record; else what it duplicates.

        `content_digest` is the sha256 of the record's canonical content, and `text` is what near-dup
        compares: the record's normalised, redacted text.
        """
        scope_id = self._scope_id(scope)
        content_key = scope_id.to_bytes(4, "big") + content_digest
        previous = self._slot_by_doc.get(doc_id)
        owner = self._slot_by_content.get(content_key)
        if owner is not None and owner != previous:
            return Match(DuplicateKind.EXACT, self._doc_at(owner), 1.0)
        signature = self._signer.sign(text) if self._signer is not None else None
        if self._near is not None and signature is not None:
            found = self._near.find(signature, scope_id, exclude=previous)
            if found is not None:
                return Match(DuplicateKind.NEAR, self._doc_at(found[0]), found[1])
        with self._state.change() if self._state is not None else nullcontext():
            if previous is not None:
                self._forget(previous)
            slot = self._allocate()
            self._index(slot, doc_id, content_key, scope_id, signature)
            if self._state is not None:
                self._state.write_slot(slot, doc_id, content_key, scope_id, signature)
        return None

    def forget(self, doc_id: str) -> None:
        """Drops the record `doc_id` from the index, if it is there."""
        slot = self._slot_by_doc.get(doc_id)
        if slot is not None:
            with self._state.change() if self._state is not None else nullcontext():
                self._forget(slot)

    def __len__(self) -> int:
        """The number of records indexed now."""
        return len(self._slot_by_doc)

    def _scope_id(self, scope: Scope) -> int:
        scope_id = self._scope_ids.get(scope)
        if scope_id is None:
            scope_id = self._scope_ids[scope] = len(self._scope_ids)
            if self._state is not None:
                self._state.add_scope(scope, scope_id)
        return scope_id

    def _index(self, slot: int, doc_id: str, content_key: bytes, scope_id: int, signature: Signature | None) -> None:
        self._doc_ids[slot], self._content_keys[slot] = doc_id, content_key
        self._slot_by_doc[doc_id] = self._slot_by_content[content_key] = slot
        if self._near is not None and signature is not None:
            self._near.add(slot, signature, scope_id)

    def _restore(self, state: DedupState) -> None:
        self._scope_ids = state.scopes()
        self._admitted = state.ring_position()
        for saved in state.slots():
            missing = saved.slot + 1 - len(self._doc_ids)
            self._doc_ids += [None] * missing
            self._content_keys += [None] * missing
            self._index(saved.slot, saved.doc_id, saved.content_key, saved.scope_id, saved.signature)

    def _doc_at(self, slot: int) -> str:
        doc_id = self._doc_ids[slot]
        if doc_id is None:
            raise LookupError(f"slot {slot} is free")
        return doc_id

    def _allocate(self) -> int:
        if self._capacity is None or len(self._doc_ids) < self._capacity:
            self._doc_ids.append(None)
            self._content_keys.append(None)
            return len(self._doc_ids) - 1
        # A ring: the slot handed out longest ago holds the oldest record still indexed, if any.
        slot = self._admitted % self._capacity
        self._admitted += 1
        if self._state is not None:
            self._state.set_ring_position(self._admitted)
        self._forget(slot)
        return slot

    def _forget(self, slot: int) -> None:
        doc_id, content_key = self._doc_ids[slot], self._content_keys[slot]
        if doc_id is None or content_key is None:
            return
        del self._slot_by_doc[doc_id]
        if self._slot_by_content.get(content_key) == slot:
            del self._slot_by_content[content_key]
        if self._near is not None:
            self._near.discard(slot)
        self._doc_ids[slot] = self._content_keys[slot] = None
        if self._state is not None:
            self._state.free_slot(slot)
