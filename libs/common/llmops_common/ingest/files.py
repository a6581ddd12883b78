"""Reads raw records from files: JSONL, CSV, Parquet, and folders of `.txt` and `.md`.

Each reader yields one record at a time, so a large file never sits in memory, and a problem names
the file and its line or row.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from ..errors import PermanentError
from ..events import RecordSubmittedV1

Kind = Literal["document", "example"]
TEXT_SUFFIXES = (".txt", ".md")
RECORD_FIELDS = ("record_id", "text", "prompt", "completion", "messages", "metadata", "source")


class IngestFileError(PermanentError):
    """A file that cannot be read as records; the message names the file and the line or row."""

    code = "invalid_ingest_file"


def read_records(
    path: Path, *, tenant: str, dataset: str | None, kind: Kind, collection: str | None = None
) -> Iterator[RecordSubmittedV1]:
    """The records in `path`, a file or a folder, one at a time; documents go into `collection` (the
    default one when None)."""
    owner = {"tenant": tenant, "dataset": dataset, "kind": kind, "collection": collection}
    if path.is_dir():
        yield from _folder(path, owner)
        return
    readers = {".jsonl": _jsonl, ".csv": _csv, ".parquet": _parquet}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise IngestFileError(
            f"{path}: unknown format {path.suffix or '(no suffix)'!r}; expected .jsonl, .csv, "
            ".parquet, or a folder of .txt and .md files"
        )
    for place, fields in reader(path):
        yield _record(path, place, fields, owner)


def _record(path: Path, place: str, fields: dict[str, Any], owner: dict[str, Any]) -> RecordSubmittedV1:
    """The record of one line or row; `owner` holds the fields the command sets for every record."""
    fields = {name: value for name, value in fields.items() if name in RECORD_FIELDS and value not in (None, "")}
    for name in ("messages", "metadata"):
        if isinstance(fields.get(name), str):
            try:
                fields[name] = json.loads(fields[name])
            except json.JSONDecodeError as error:
                raise IngestFileError(f"{path}, {place}: {name} is not valid JSON: {error.msg}") from error
    fields.setdefault("record_id", f"{path.name}:{place.split()[-1]}")
    fields.setdefault("source", path.name)
    try:
        return RecordSubmittedV1.model_validate({**fields, **owner})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors())
        raise IngestFileError(f"{path}, {place}: {problems}") from error


def _jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
            except json.JSONDecodeError as error:
                raise IngestFileError(f"{path}, line {number}: not valid JSON: {error.msg}") from error
            if not isinstance(fields, dict):
                raise IngestFileError(f"{path}, line {number}: expected a JSON object")
            yield f"line {number}", fields


def _csv(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(file)
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            if None in row:
                raise IngestFileError(f"{path}, row {number}: more fields than the header names")
            yield f"row {number}", dict(row)


def _parquet(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq  # only Parquet needs the `ingest` extra
    except ModuleNotFoundError as error:
        raise IngestFileError("reading Parquet needs pyarrow: pip install 'llmops-platform[ingest]'") from error
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            yield f"row {number}", row


def _folder(folder: Path, owner: dict[str, Any]) -> Iterator[RecordSubmittedV1]:
    if owner["kind"] != "document":
        raise IngestFileError(f"{folder}: a folder of text files holds documents, not examples")
    for file in sorted(p for p in folder.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES and p.is_file()):
        relative = file.relative_to(folder).as_posix()
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise IngestFileError(f"{file}: not UTF-8 text (byte {error.start})") from error
        yield _record(file, "file", {"record_id": relative, "text": text, "source": folder.name}, owner)
