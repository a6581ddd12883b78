"""Every event type's schema, as the code generates it now, still reads what its last revision allowed.

The baseline is a git revision: `HEAD` by default, which catches a model edited in the working tree;
in a pull request's CI set `LLMOPS_SCHEMA_BASE=origin/main`, and the baseline becomes the merge base
with main, which catches the change even once the branch committed regenerated schemas. The current
schema comes from the code, not from `schemas/`, so a model changed without `make schemas` is caught
too. A type new since the baseline, or a tree that is not a git checkout, has nothing to compare.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from llmops_common.contracts.compat import breaking_changes
from llmops_common.contracts.event_schemas import event_schema, event_version, schema_path
from llmops_common.events import EVENT_MODELS
from llmops_common.settings import REPO_ROOT

BASE_ENV = "LLMOPS_SCHEMA_BASE"


def git(*args: str) -> subprocess.CompletedProcess[str]:
    """A git command in the repository, its output captured."""
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def baseline() -> str:
    """The revision to compare against; skips when there is no git checkout to read it from."""
    if shutil.which("git") is None or git("rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
        pytest.skip("not a git checkout with a commit: no committed schemas to compare against")
    base = os.environ.get(BASE_ENV)
    if not base:
        return "HEAD"
    merge_base = git("merge-base", "HEAD", base)
    if merge_base.returncode != 0:
        pytest.fail(f"{BASE_ENV}={base}: no merge base with HEAD ({merge_base.stderr.strip()}); fetch it first")
    return merge_base.stdout.strip()


def committed_schema(revision: str, event_type: str) -> dict[str, Any] | None:
    """An event type's schema as committed at `revision`, or None when it was not there yet."""
    shown = git("show", f"{revision}:./schemas/{schema_path(event_type)}")
    if shown.returncode != 0:
        return None
    schema: dict[str, Any] = json.loads(shown.stdout)
    return schema


def next_version(event_type: str) -> str:
    """The type a breaking change must be published as: `x.v1` becomes `x.v2`."""
    version = event_version(event_type)
    return f"{event_type.removesuffix(f'.v{version}')}.v{version + 1}"


@pytest.mark.parametrize("event_type", sorted(EVENT_MODELS))
def test_the_schema_stays_backward_compatible_within_its_version(event_type: str, baseline: str) -> None:
    old = committed_schema(baseline, event_type)
    if old is None:
        pytest.skip(f"{schema_path(event_type)} is not committed at {baseline}: a new type")

    findings = breaking_changes(old, event_schema(EVENT_MODELS[event_type]))

    assert not findings, (
        f"{event_type} changed incompatibly since {baseline}:\n  "
        + "\n  ".join(findings)
        + f"\nWithin a vN type only add optional fields. Publish the change as a new type "
        f"{next_version(event_type)} beside {event_type} until its consumers have moved."
    )


def test_the_next_version_of_a_type_bumps_its_suffix() -> None:
    assert next_version("llmops.inference.completed.v1") == "llmops.inference.completed.v2"
    assert next_version("llmops.v1.thing.v10") == "llmops.v1.thing.v11"
