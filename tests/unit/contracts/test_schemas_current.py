"""The committed files under `schemas/` are what the generator writes from the code today."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from llmops_common.contracts.schema_files import expected_files, stale_files
from llmops_common.settings import REPO_ROOT

SCHEMAS = REPO_ROOT / "schemas"

_DIGEST_SCRIPT = """
import hashlib, json
from llmops_common.contracts.schema_files import expected_files
print(json.dumps({path: hashlib.sha256(text.encode()).hexdigest() for path, text in expected_files().items()}))
"""


def test_committed_schemas_match_the_code() -> None:
    stale = stale_files(SCHEMAS)

    assert not stale, (
        "schemas/ is stale against llmops_common.events and .topics; run `make schemas` and commit:\n  "
        + "\n  ".join(str(item) for item in stale)
    )


def test_the_generator_writes_the_same_bytes_in_every_process() -> None:
    here = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in expected_files().items()}
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )

        assert json.loads(run.stdout) == here
