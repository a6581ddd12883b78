"""Adapter folders fetched from the artifact store into the server's own cache, once per artifact."""

from __future__ import annotations

import asyncio
from pathlib import Path

from llmops_common.engines.base import AdapterSpec
from llmops_common.events.base import ArtifactRef
from llmops_common.storage.artifacts import ArtifactStore


class AdapterFiles:
    """Unpacks adapter artifacts under `cache_dir/<sha256>`; an unpacked one is reused after a restart."""

    def __init__(self, store: ArtifactStore, cache_dir: Path) -> None:
        self._store = store
        self._cache_dir = cache_dir

    async def spec_for(self, version: str, ref: ArtifactRef) -> AdapterSpec:
        """The engine's spec of `version`, its folder fetched (and checked against `ref`) if need be."""
        folder = self._cache_dir / ref.sha256
        if not folder.exists():
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            # fetch_folder unpacks beside the target and renames, so a half-fetched folder never shows.
            await asyncio.to_thread(self._store.fetch_folder, ref, folder)
        # The name is unique per artifact: two versions of one name with other bytes never mix.
        return AdapterSpec(name=f"{version}@{ref.sha256[:12]}", path=folder)
