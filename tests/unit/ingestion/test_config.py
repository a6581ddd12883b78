"""Pipeline settings have the documented defaults and refuse values that make no sense."""

from __future__ import annotations

import pytest

from services.ingestion.pipeline.config import PipelineSettings


def test_defaults() -> None:
    settings = PipelineSettings()

    assert (settings.min_words, settings.max_symbol_ratio, settings.max_repetition) == (3, 0.3, 0.3)
    assert (settings.shingle_size, settings.near_dup_threshold, settings.num_perm) == (5, 0.8, 128)
    assert settings.max_indexed_records is None


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"max_chars": 0}, "max_chars"),
        ({"near_dup_threshold": 0.0}, "near_dup_threshold"),
        ({"max_symbol_ratio": 1.5}, "max_symbol_ratio"),
        ({"num_perm": 1}, "num_perm"),
        ({"lsh_bands": 200}, "lsh_bands"),
        ({"max_indexed_records": 0, "shingle_size": 0}, "shingle_size, max_indexed_records"),
    ],
)
def test_nonsense_is_refused(changes: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=f"invalid pipeline settings: {named}$"):
        PipelineSettings(**changes)  # type: ignore[arg-type]
