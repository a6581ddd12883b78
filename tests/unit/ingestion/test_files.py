"""`llmops ingest` reads JSONL, CSV, Parquet and folders, and names the line or row of a bad record."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops_common.ingest.files import IngestFileError, read_records


def test_jsonl_csv_parquet_and_folders_give_records(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"record_id": "r1", "text": "one"}\n\n{"text": "two"}\n')
    (tmp_path / "b.csv").write_text('prompt,completion,metadata\nhi?,hello.,"{""lang"": ""en""}"\n')
    pq.write_table(pa.table({"text": ["three", "four"]}), tmp_path / "c.parquet")
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "guides" / "setup.md").write_text("# Setup\nRun it.")
    (docs / "notes.txt").write_text("Plain notes.")
    (docs / "image.png").write_bytes(b"\x89PNG")

    jsonl = list(read_records(tmp_path / "a.jsonl", tenant="acme", dataset=None, kind="document"))
    examples = list(read_records(tmp_path / "b.csv", tenant="acme", dataset="support", kind="example"))
    parquet = list(read_records(tmp_path / "c.parquet", tenant="acme", dataset=None, kind="document"))
    folder = list(read_records(docs, tenant="acme", dataset=None, kind="document"))

    assert [(r.record_id, r.text) for r in jsonl] == [("r1", "one"), ("a.jsonl:3", "two")]
    assert (examples[0].prompt, examples[0].completion, examples[0].metadata) == ("hi?", "hello.", {"lang": "en"})
    assert examples[0].dataset == "support"
    assert [r.text for r in parquet] == ["three", "four"]
    assert [(r.record_id, r.source) for r in folder] == [("guides/setup.md", "docs"), ("notes.txt", "docs")]


def test_documents_go_into_the_named_collection(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"record_id": "r1", "text": "one"}\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("Plain notes.")

    named = [
        *read_records(tmp_path / "a.jsonl", tenant="acme", dataset=None, kind="document", collection="handbook"),
        *read_records(tmp_path / "docs", tenant="acme", dataset=None, kind="document", collection="handbook"),
    ]
    unnamed = list(read_records(tmp_path / "a.jsonl", tenant="acme", dataset=None, kind="document"))

    assert [r.collection for r in named] == ["handbook", "handbook"]
    assert [r.collection for r in unnamed] == [None]
    with pytest.raises(IngestFileError, match="collection"):
        list(read_records(tmp_path / "a.jsonl", tenant="acme", dataset=None, kind="document", collection="a/b"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", '{"text": "ok"}\n{"text": \n', "bad.jsonl, line 2: not valid JSON"),
        ("bad.jsonl", '{"text": "ok"}\n{"prompt": "no kind match"}\n', "bad.jsonl, line 2: record"),
        ("bad.csv", "text\nfine\n", ""),
        ("ragged.csv", "text\nfine,extra\n", "ragged.csv, row 2: more fields than the header names"),
        ("data.xml", "<x/>", "unknown format '.xml'"),
    ],
)
def test_bad_files_name_the_place(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)

    if not message:
        assert len(list(read_records(tmp_path / name, tenant="acme", dataset=None, kind="document"))) == 1
        return
    with pytest.raises(IngestFileError, match=message):
        list(read_records(tmp_path / name, tenant="acme", dataset=None, kind="document"))
