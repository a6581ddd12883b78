"""Every revision of each event type's schema that the git history holds: the baseline of the compat check.

A check against `HEAD` cannot fail once a breaking change is committed together with its regenerated
schema, which is how such a change reaches main; and on main, in CI, the merge base with main is `HEAD`
itself. So the check compares the schema the code generates now with every revision of
`schemas/events/<type>.json` committed in `HEAD`'s history. The last release tag, the merge base and the
previous commit are all among them, so a committed breaking change fails on its branch, on main and on
every later commit, until it is reverted or published as a new version. A shallow clone has no history
to compare with: it is refused, unless the caller accepts reading only the commits it has.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMAS_FOLDER = "schemas/events"


class ShallowHistoryError(RuntimeError):
    """The checkout is a shallow clone: the revisions before its cut are missing."""


@dataclass(frozen=True)
class CommittedSchema:
    """One committed revision of an event type's schema."""

    commit: str
    schema: dict[str, Any]


def is_git_checkout(repo: Path) -> bool:
    """Whether `repo` is a git checkout with at least one commit."""
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", "HEAD").returncode == 0
    except FileNotFoundError:  # no git on this machine
        return False


def schema_history(
    repo: Path, folder: str = SCHEMAS_FOLDER, *, allow_shallow: bool = False
) -> dict[str, list[CommittedSchema]]:
    """Each event type's distinct committed schemas, newest first, from every commit `HEAD` descends from.

    A shallow clone raises `ShallowHistoryError` unless `allow_shallow`, which reads the commits it has.
    """
    if not allow_shallow and _git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise ShallowHistoryError(f"{repo} is a shallow clone: fetch its history (git fetch --unshallow)")
    log = _git(repo, "log", "--full-history", "--format=commit %H", "--name-only", "--", folder)
    revisions: list[tuple[str, str]] = []
    commit = ""
    for line in log.stdout.splitlines():
        if line.startswith("commit "):
            commit = line.removeprefix("commit ")
        elif line.endswith(".json"):
            revisions.append((commit, line))
    history: dict[str, list[CommittedSchema]] = {}
    seen: set[tuple[str, str]] = set()
    for (commit, path), text in zip(revisions, _blobs(repo, revisions), strict=True):
        event_type = Path(path).name.removesuffix(".json")
        if text is None or (event_type, text) in seen:
            continue  # a commit that deleted the file, or a revision already listed
        seen.add((event_type, text))
        history.setdefault(event_type, []).append(CommittedSchema(commit, json.loads(text)))
    return history


def _blobs(repo: Path, revisions: list[tuple[str, str]]) -> list[str | None]:
    """The text of each `commit:path`, or None where the commit has no such file; one git process for all."""
    request = "".join(f"{commit}:{path}\n" for commit, path in revisions).encode()
    command = ["git", "cat-file", "--batch"]
    output = subprocess.run(command, cwd=repo, input=request, capture_output=True, check=True).stdout  # noqa: S603
    texts: list[str | None] = []
    position = 0
    for _ in revisions:
        end = output.index(b"\n", position)
        header = output[position:end].split()
        position = end + 1
        if header[-1] == b"missing":
            texts.append(None)
            continue
        size = int(header[2])
        texts.append(output[position : position + size].decode())
        position += size + 1  # the content, then a newline
    return texts


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)  # noqa: S603, S607
