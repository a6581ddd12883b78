"""What `llmops train start` reads from its arguments: a job id, hyperparameters, a dataset reference."""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable
from datetime import datetime

from ..events import DatasetSealedV1, Event

HyperparameterValue = float | int | str | bool
JOB_ID_MAX = 128
"""The longest job id `TrainingRequestedV1` takes."""
LATEST = "latest"


def new_job_id(model: str, now: datetime) -> str:
    """A job id a person can read and sort: `<model>-<yyyymmdd-hhmmss>-<4 hex>`; the hex keeps two
    requests of the same second apart."""
    suffix = f"-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    return model[: JOB_ID_MAX - len(suffix)] + suffix


def parse_hyperparameters(pairs: Iterable[str]) -> dict[str, HyperparameterValue]:
    """`key=value` pairs, each value read as an int, a float, true or false, or else kept as text."""
    parsed: dict[str, HyperparameterValue] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"hyperparameter {pair!r} is not key=value")
        parsed[key.strip()] = parse_value(text.strip())
    return parsed


def parse_value(text: str) -> HyperparameterValue:
    """`8` is an int, `2e-4` a float, `true`/`false` a bool (any case), anything else text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        # `nan` and `inf` read as floats, but JSON has no such numbers: they stay text.
        if math.isfinite(number):
            return number
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


def parse_dataset_ref(ref: str) -> tuple[str, str | None]:
    """`NAME@VERSION` as (name, version); a missing version or `latest` gives None, to be looked up."""
    name, sep, version = ref.rpartition("@")
    if not sep:
        name, version = ref, ""
    if not name:
        raise ValueError(f"dataset {ref!r} has no name; write NAME or NAME@VERSION")
    return name, (None if version in ("", LATEST) else version)


def latest_sealed(events: Iterable[Event], tenant: str, name: str) -> DatasetSealedV1 | None:
    """The tenant's last sealed version of the dataset, in log order (one key, so one partition)."""
    latest: DatasetSealedV1 | None = None
    for event in events:
        if isinstance(event, DatasetSealedV1) and event.tenant == tenant and event.name == name:
            latest = event
    return latest
