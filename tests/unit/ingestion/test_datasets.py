"""Dataset versions are reproducible: the same examples give the same bytes, hash and split."""

from __future__ import annotations

import random

from llmops_common.dataset_rows import read_dataset_rows as read_version
from services.ingestion.datasets import Example, build_version, split_of


def examples(count: int) -> list[Example]:
    return [
        Example(
            record_id=f"r{n}",
            source="support",
            prompt=f"question {n}?",
            completion=f"answer {n}.",
            messages=None,
            metadata=(("lang", "en"),),
        )
        for n in range(count)
    ]


def test_the_same_examples_in_any_order_give_the_same_version_and_bytes() -> None:
    rows = examples(200)
    shuffled = random.Random(7).sample(rows, len(rows))  # noqa: S311 - a shuffle, not a secret

    first, second = build_version(rows), build_version(shuffled)

    assert first.version == second.version
    assert first.parquet == second.parquet
    assert (first.rows, first.train_rows + first.eval_rows) == (200, 200)


def test_a_changed_example_changes_the_version() -> None:
    rows = examples(10)
    changed = [*rows[:-1], Example("r9", "support", "question 9?", "a better answer.", None)]

    assert build_version(rows).version != build_version(changed).version


def test_the_split_follows_the_example_hash_and_about_a_tenth_goes_to_eval() -> None:
    version = build_version(examples(2000))

    assert 150 < version.eval_rows < 250
    for row in read_version(version.parquet)[:50]:
        assert row["split"] == split_of(row["example_sha256"])


def test_duplicates_by_content_are_kept_once_and_chat_examples_round_trip() -> None:
    chat = Example("c1", "app", None, None, (("user", "hi"), ("assistant", "hello")))
    again = Example("c2", "other-app", None, None, (("user", "hi"), ("assistant", "hello")))

    version = build_version([chat, again])
    [row] = read_version(version.parquet)

    assert version.rows == 1
    assert row["messages"] == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert row["prompt"] is None
