"""A folder as one reproducible tar, so a model folder is one artifact with one sha256.

The same files with the same bytes give the same tar on any machine: entries are sorted and carry no
time, owner or umask. Uncompressed, because weights hardly compress and a plain tar streams fast.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import BinaryIO


def _entry(name: str, kind: bytes, size: int = 0, mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, size, mode
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def pack_folder(folder: Path, out: BinaryIO) -> None:
    """Writes `folder`'s files and subfolders to `out` as a tar with paths relative to `folder`.

    Symlinks to files are stored as the files they point to (a Hugging Face snapshot is all symlinks);
    a symlink to a folder, a dangling link or a special file is refused.
    """
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
            name = path.relative_to(folder).as_posix()
            if path.is_dir() and not path.is_symlink():
                tar.addfile(_entry(name, tarfile.DIRTYPE, mode=0o755))
            elif path.is_file():
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                with path.open("rb") as source:
                    tar.addfile(_entry(name, tarfile.REGTYPE, path.stat().st_size, mode), source)
            else:
                raise ValueError(f"{path} is neither a file nor a folder; it cannot go into an artifact")


def unpack_folder(archive: Path, target: Path) -> None:
    """Extracts a tar made by `pack_folder` into the existing folder `target`.

    The "data" filter refuses absolute paths, `..` and links leaving `target`, whoever made the tar.
    """
    with tarfile.open(archive, mode="r:") as tar:
        tar.extractall(target, filter="data")
