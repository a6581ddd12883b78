"""A folder as one reproducible tar."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from llmops_common.storage.folder_archive import pack_folder, unpack_folder


def make_model_folder(root: Path) -> Path:
    (root / "tokenizer").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "config.json").write_text('{"layers": 2}')
    (root / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o700)
    return root


def packed(folder: Path) -> bytes:
    out = io.BytesIO()
    pack_folder(folder, out)
    return out.getvalue()


def test_the_same_files_pack_to_the_same_bytes_whatever_their_times(tmp_path: Path) -> None:
    first = make_model_folder(tmp_path / "a")
    second = make_model_folder(tmp_path / "b")
    os.utime(second / "config.json", (1_000_000, 1_000_000))
    (second / "config.json").chmod(0o600)

    assert packed(first) == packed(second)
    (second / "config.json").write_text('{"layers": 3}')
    assert packed(first) != packed(second)


def test_a_folder_round_trips_with_subfolders_empty_folders_and_exec_bits(tmp_path: Path) -> None:
    source = make_model_folder(tmp_path / "model")
    archive = tmp_path / "model.tar"
    archive.write_bytes(packed(source))
    target = tmp_path / "out"
    target.mkdir()

    unpack_folder(archive, target)

    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "config.json",
        "empty",
        "run.sh",
        "tokenizer",
        "tokenizer/vocab.txt",
    ]
    assert (target / "tokenizer" / "vocab.txt").read_text() == "a\nb\n"
    assert (target / "run.sh").stat().st_mode & 0o111
    assert not (target / "config.json").stat().st_mode & 0o111


def test_symlinked_files_are_stored_as_their_content(tmp_path: Path) -> None:
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    (blobs / "weights").write_bytes(b"\x00\x01")
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "model.bin").symlink_to(blobs / "weights")

    with tarfile.open(fileobj=io.BytesIO(packed(snapshot))) as tar:
        member = tar.getmember("model.bin")
        assert member.isfile()
        extracted = tar.extractfile(member)
        assert extracted is not None
        assert extracted.read() == b"\x00\x01"


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="neither a file nor a folder"):
        packed(tmp_path)


def test_a_tar_reaching_outside_the_target_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    target = tmp_path / "out"
    target.mkdir()

    with pytest.raises(tarfile.OutsideDestinationError):
        unpack_folder(archive, target)
    assert not (tmp_path / "escaped.txt").exists()
