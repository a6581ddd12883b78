"""The development key `llmops up` hands a newcomer: an admin key of the tenant `dev`, kept in the data folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..events import ApiKeyIssuedV1
from .api_keys import issue_key

DEV_TENANT = "dev"


def dev_key_path(data_dir: Path) -> Path:
    """Where the development key and its event are kept (readable by the owner only)."""
    return data_dir / "dev-key.json"


def load_or_issue_dev_key(data_dir: Path) -> tuple[str, ApiKeyIssuedV1, bool]:
    """The saved development key, or a new one saved now; True when it is new.

    The event is saved with the token because the local broker keeps nothing across restarts:
    `llmops up` publishes it again at every start, and the same key keeps working. It publishes it only
    to the broker it started itself, unless asked (`local_platform.run_platform`).
    """
    path = dev_key_path(data_dir)
    if path.exists():
        saved = json.loads(path.read_text())
        return saved["token"], ApiKeyIssuedV1.model_validate(saved["event"]), False
    token, event = issue_key(DEV_TENANT, roles=["admin"], issued_by="llmops up", description="local development key")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"token": token, "event": event.model_dump(mode="json")}, file, indent=2)
    return token, event, True
