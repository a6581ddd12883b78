"""`python -m llmops_common.contracts write|check`: regenerate `schemas/`, or fail when it is stale."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..settings import REPO_ROOT
from .schema_files import stale_files, write_files


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command in `argv`; the exit status is 1 when `check` finds stale files."""
    parser = argparse.ArgumentParser(prog="python -m llmops_common.contracts", description=__doc__)
    parser.add_argument("command", choices=("write", "check"))
    parser.add_argument("--root", type=Path, default=REPO_ROOT / "schemas", help="the schemas folder")
    args = parser.parse_args(argv)
    root: Path = args.root
    if args.command == "write":
        for item in write_files(root):
            print(f"wrote {item}" if item.reason != "unexpected" else f"deleted {item}")
        return 0
    stale = stale_files(root)
    for item in stale:
        print(f"stale: {item}", file=sys.stderr)
    if stale:
        print(f"{len(stale)} stale file(s) under {root}; run `make schemas`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
