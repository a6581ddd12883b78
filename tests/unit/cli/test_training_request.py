"""What `llmops train start` makes of its arguments: job ids, hyperparameters, dataset references."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from llmops_common.cli.training_request import (
    latest_sealed,
    new_job_id,
    parse_dataset_ref,
    parse_hyperparameters,
)
from llmops_common.events import ArtifactRef, DatasetSealedV1


def sealed(tenant: str, name: str, version: str) -> DatasetSealedV1:
    artifact = ArtifactRef(uri=f"file:///a/{version}", sha256=version[0] * 64, size_bytes=1)
    return DatasetSealedV1(
        name=name, version=version, tenant=tenant, artifact=artifact, rows=1, train_rows=1, eval_rows=0
    )


def test_a_job_id_is_the_model_the_time_and_four_hex_digits() -> None:
    job_id = new_job_id("support-bot", datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert re.fullmatch(r"support-bot-20250304-050607-[0-9a-f]{4}", job_id)


def test_a_long_model_name_is_cut_so_the_job_id_fits_its_128_characters() -> None:
    job_id = new_job_id("m" * 300, datetime(2025, 3, 4, tzinfo=UTC))
    assert len(job_id) == 128
    assert job_id.startswith("m" * 107 + "-20250304-000000-")


def test_hyperparameters_are_ints_floats_bools_or_text() -> None:
    parsed = parse_hyperparameters(
        ["lora_r=8", "learning_rate=2e-4", "warmup=0.1", "packing=true", "fp16=False", "scheduler=cosine", "x=nan"]
    )
    assert [(key, type(value), value) for key, value in parsed.items()] == [
        ("lora_r", int, 8),
        ("learning_rate", float, 0.0002),
        ("warmup", float, 0.1),
        ("packing", bool, True),
        ("fp16", bool, False),
        ("scheduler", str, "cosine"),
        ("x", str, "nan"),
    ]


@pytest.mark.parametrize("pair", ["lora_r", "=8"])
def test_a_hyperparameter_without_key_and_value_is_refused(pair: str) -> None:
    with pytest.raises(ValueError, match="is not key=value"):
        parse_hyperparameters([pair])


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("faq", ("faq", None)),
        ("faq@latest", ("faq", None)),
        ("faq@", ("faq", None)),
        ("faq@3f2a9c", ("faq", "3f2a9c")),
        ("team@faq@3f2a9c", ("team@faq", "3f2a9c")),
    ],
)
def test_dataset_references(ref: str, expected: tuple[str, str | None]) -> None:
    assert parse_dataset_ref(ref) == expected


def test_a_dataset_reference_needs_a_name() -> None:
    with pytest.raises(ValueError, match="has no name"):
        parse_dataset_ref("@3f2a9c")


def test_the_latest_sealed_version_is_the_tenants_last_one_in_log_order() -> None:
    events = [sealed("acme", "faq", "a1"), sealed("acme", "faq", "b2"), sealed("other", "faq", "c3")]
    events.append(sealed("acme", "chat", "d4"))
    assert latest_sealed(events, "acme", "faq") == events[1]
    assert latest_sealed(events, "acme", "missing") is None
