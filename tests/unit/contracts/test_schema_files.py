"""`write` and `check` on a folder of their own: what they report, write and delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_common.contracts.__main__ import main
from llmops_common.contracts.schema_files import StaleFile, expected_files, stale_files, write_files


def test_write_fills_an_empty_folder_and_check_then_passes(tmp_path: Path) -> None:
    written = write_files(tmp_path)

    assert {item.path for item in written} == set(expected_files())
    assert {item.reason for item in written} == {"missing"}
    assert stale_files(tmp_path) == []


def test_check_reports_changed_missing_and_unexpected_files(tmp_path: Path) -> None:
    write_files(tmp_path)
    (tmp_path / "asyncapi.json").write_text("{}\n")
    (tmp_path / "topics/llmops.alerts.yaml").unlink()
    (tmp_path / "events/llmops.gone.v1.json").write_text("{}\n")
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples/hand-written.json").write_text("{}\n")

    assert stale_files(tmp_path) == [
        StaleFile("asyncapi.json", "changed"),
        StaleFile("topics/llmops.alerts.yaml", "missing"),
        StaleFile("events/llmops.gone.v1.json", "unexpected"),
    ]


def test_write_deletes_generated_files_that_nothing_generates(tmp_path: Path) -> None:
    write_files(tmp_path)
    (tmp_path / "events/llmops.gone.v1.json").write_text("{}\n")

    assert write_files(tmp_path) == [StaleFile("events/llmops.gone.v1.json", "unexpected")]
    assert not (tmp_path / "events/llmops.gone.v1.json").exists()


def test_every_file_ends_in_one_newline() -> None:
    for path, text in expected_files().items():
        assert text.endswith("\n"), path
        assert not text.endswith("\n\n"), path


def test_the_command_exits_non_zero_listing_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--root", str(tmp_path)]) == 1
    assert "stale: asyncapi.json (missing)" in capsys.readouterr().err

    assert main(["write", "--root", str(tmp_path)]) == 0
    assert main(["check", "--root", str(tmp_path)]) == 0
