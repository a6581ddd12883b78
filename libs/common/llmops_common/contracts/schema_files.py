"""The generated files under `schemas/`: render them, write them, or list those that are stale.

Output is byte-stable (sorted JSON keys, fixed YAML order, one trailing newline), so a stale check is
a byte comparison and a diff of `schemas/` in review shows exactly how the contract changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from ..events import EVENT_MODELS
from ..topics import CATALOG
from .asyncapi import asyncapi_document
from .event_schemas import GENERATED_NOTE, event_schema, schema_path
from .topic_docs import topic_document, topic_path

ASYNCAPI_PATH = "asyncapi.json"
GENERATED_DIRS = ("events", "topics")
"""Folders under `schemas/` that hold generated files only; anything else there is stale."""


@dataclass(frozen=True)
class StaleFile:
    """A generated file that differs from what the generator would write now."""

    path: str
    reason: Literal["missing", "changed", "unexpected"]

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


def render_json(document: Any) -> str:
    """JSON with sorted keys, two-space indents and a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(document: Any) -> str:
    """YAML in the document's own key order, unwrapped, under a do-not-edit note."""
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=10_000)
    return f"# {GENERATED_NOTE}\n{body}"


def expected_files() -> dict[str, str]:
    """Every generated file, by its path relative to `schemas/`."""
    files = {
        schema_path(event_type): render_json(event_schema(model)) for event_type, model in sorted(EVENT_MODELS.items())
    }
    files.update({topic_path(spec): render_yaml(topic_document(spec)) for spec in CATALOG})
    files[ASYNCAPI_PATH] = render_json(asyncapi_document(CATALOG))
    return files


def stale_files(root: Path, expected: Mapping[str, str] | None = None) -> list[StaleFile]:
    """The files under `root` that are missing, differ from `expected` or should not be there."""
    expected = expected_files() if expected is None else expected
    stale = []
    for path, text in sorted(expected.items()):
        target = root / path
        if not target.is_file():
            stale.append(StaleFile(path, "missing"))
        elif target.read_bytes() != text.encode():
            stale.append(StaleFile(path, "changed"))
    stale.extend(StaleFile(path, "unexpected") for path in _generated_on_disk(root) if path not in expected)
    return stale


def write_files(root: Path, expected: Mapping[str, str] | None = None) -> list[StaleFile]:
    """Brings `root` up to date, deleting generated files nothing generates any more; returns what changed."""
    expected = expected_files() if expected is None else expected
    stale = stale_files(root, expected)
    for item in stale:
        target = root / item.path
        if item.reason == "unexpected":
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(expected[item.path].encode())
    return stale


def _generated_on_disk(root: Path) -> Iterable[str]:
    for folder in GENERATED_DIRS:
        if (root / folder).is_dir():
            yield from sorted(
                path.relative_to(root).as_posix() for path in (root / folder).rglob("*") if path.is_file()
            )
