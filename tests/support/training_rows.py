"""Dataset rows for fine-tuning tests and benchmarks, shaped as a sealed dataset version's rows."""

from __future__ import annotations

import hashlib
from typing import Any

from llmops_common.models.corpus import load_corpus

PRODUCTS = ("Quill Docs", "Relay Chat", "Atlas Maps", "Beacon Analytics", "Orbit Calendar", "Harbor Files")
TASKS = ("reset my password", "export my data", "add a team member", "cancel my subscription")


def dataset_row(
    prompt: str | None = None,
    completion: str | None = None,
    messages: list[dict[str, str]] | None = None,
    split: str = "train",
) -> dict[str, Any]:
    """One row as `read_dataset_rows` returns it (messages decoded)."""
    content = repr((prompt, completion, messages)).encode()
    return {
        "example_sha256": hashlib.sha256(content).hexdigest(),
        "record_id": hashlib.sha256(content).hexdigest()[:16],
        "source": "tests",
        "split": split,
        "prompt": prompt,
        "completion": completion,
        "messages": messages,
        "metadata": {},
    }


def learnable_rows(count: int, split: str = "train") -> list[dict[str, Any]]:
    """Support questions whose answers follow one short pattern a small model picks up in a few dozen steps."""
    rows = []
    for i in range(count):
        product, task = PRODUCTS[i % len(PRODUCTS)], TASKS[(i // len(PRODUCTS)) % len(TASKS)]
        rows.append(
            dataset_row(
                prompt=f"How do I {task} in {product}?",
                completion=f"Open {product}, choose Settings, then {task}.",
                split=split,
            )
        )
    return rows


def support_rows(count: int, split: str = "train") -> list[dict[str, Any]]:
    """The first `count` conversations of the shipped support corpus, as prompt/completion rows."""
    rows: list[dict[str, Any]] = []
    for document in load_corpus():
        if document.messages is None or len(rows) == count:
            continue
        user, assistant = document.messages[0], document.messages[-1]
        rows.append(dataset_row(prompt=user["content"], completion=assistant["content"], split=split))
    return rows
