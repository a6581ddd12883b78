"""Every event type's schema, as the code generates it now, still reads what each committed revision allowed.

The baseline is every revision of `schemas/events/<type>.json` in `HEAD`'s history (see `schema_history`),
not `HEAD` alone: a breaking change committed with its regenerated schema, as it reaches main, fails here
on main and on every later commit, as it does in the working tree before the commit. The current schema
comes from the code, not from `schemas/`, so a model changed without `make schemas` is caught too. A type
new since every commit has nothing to compare; a tree that is not a git checkout skips, and a shallow
clone that `.ci/run` could not deepen compares with the commits it has, with a warning.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest

from llmops_common.contracts.compat import breaking_changes
from llmops_common.contracts.event_schemas import event_schema, event_version, schema_path
from llmops_common.contracts.schema_history import (
    CommittedSchema,
    ShallowHistoryError,
    is_git_checkout,
    schema_history,
)
from llmops_common.events import EVENT_MODELS
from llmops_common.settings import REPO_ROOT


@pytest.fixture(scope="module")
def history() -> dict[str, list[CommittedSchema]]:
    """Each type's committed schemas; skips where there is no git checkout to read them from."""
    if not is_git_checkout(REPO_ROOT):
        pytest.skip("not a git checkout with a commit: no committed schemas to compare against")
    try:
        return schema_history(REPO_ROOT)
    except ShallowHistoryError as error:
        # `.ci/run` unshallows first; where it could not, compare with the commits there are and say so.
        warnings.warn(f"the schema check sees only part of the history: {error}", stacklevel=1)
        return schema_history(REPO_ROOT, allow_shallow=True)


def next_version(event_type: str) -> str:
    """The type a breaking change must be published as: `x.v1` becomes `x.v2`."""
    version = event_version(event_type)
    return f"{event_type.removesuffix(f'.v{version}')}.v{version + 1}"


def incompatible_revisions(revisions: list[CommittedSchema], current: dict[str, Any]) -> dict[str, list[str]]:
    """The findings against each committed revision that `current` breaks, by commit."""
    findings = {revision.commit[:12]: breaking_changes(revision.schema, current) for revision in revisions}
    return {commit: found for commit, found in findings.items() if found}


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_the_schema_stays_backward_compatible_within_its_version(
    event_type: str, history: dict[str, list[CommittedSchema]]
) -> None:
    revisions = history.get(event_type)
    if not revisions:
        pytest.skip(f"{schema_path(event_type)} was never committed: a new type")

    broken = incompatible_revisions(revisions, event_schema(EVENT_MODELS[event_type]))

    assert not broken, (
        f"{event_type} changed incompatibly since its committed revisions:\n  "
        + "\n  ".join(f"{commit}: {'; '.join(found)}" for commit, found in broken.items())
        + f"\nWithin a vN type only add optional fields. Publish the change as a new type "
        f"{next_version(event_type)} beside {event_type} until its consumers have moved."
    )


def test_the_next_version_of_a_type_bumps_its_suffix() -> None:
    assert next_version("llmops.inference.completed.v1") == "llmops.inference.completed.v2"
    assert next_version("llmops.v1.thing.v10") == "llmops.v1.thing.v11"


def commit_schema(repo: Path, event_type: str, schema: dict[str, Any], message: str) -> None:
    """Writes and commits one schema file, as `make schemas` and a commit would."""
    path = repo / "schemas" / schema_path(event_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-q", "-m", message], cwd=repo, check=True, capture_output=True)


def test_a_breaking_change_committed_with_its_regenerated_schema_is_still_caught(tmp_path: Path) -> None:
    event_type = "llmops.thing.happened.v1"
    released = {
        "type": "object",
        "properties": {"thing_id": {"type": "string"}, "note": {"type": "string"}},
        "required": ["thing_id"],
        "additionalProperties": False,
    }
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    commit_schema(tmp_path, event_type, released, "release the type")
    # `note` is removed and a required field added, and the schema file regenerated in the same commit:
    # HEAD agrees with the code, and only the history tells what consumers were promised.
    broken = {**released, "properties": {"thing_id": {"type": "string"}, "size": {"type": "integer"}}}
    broken["required"] = ["thing_id", "size"]
    commit_schema(tmp_path, event_type, broken, "a breaking change")

    revisions = schema_history(tmp_path)[event_type]

    assert [revision.schema for revision in revisions] == [broken, released]
    assert incompatible_revisions(revisions, broken) == {revisions[1].commit[:12]: breaking_changes(released, broken)}
    assert breaking_changes(released, broken)
