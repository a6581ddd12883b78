"""OpenMP placement for vLLM's engine core: set only while it spawns, and never over an operator's choice."""

from __future__ import annotations

import os

import pytest

from llmops_common.engines.openmp_binding import engine_threads_bound


@pytest.fixture(autouse=True)
def no_placement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_PLACES", raising=False)
    monkeypatch.delenv("OMP_PROC_BIND", raising=False)


def test_binds_every_core_but_the_last_while_the_block_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {5, 2, 3, 4})

    with engine_threads_bound():
        inside = (os.environ["OMP_PLACES"], os.environ["OMP_PROC_BIND"])

    assert inside == ("{2,3,4}", "true")
    assert "OMP_PLACES" not in os.environ
    assert "OMP_PROC_BIND" not in os.environ


def test_restores_what_was_set_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setenv("OMP_PROC_BIND", "spread")

    with engine_threads_bound():
        inside = os.environ["OMP_PROC_BIND"]

    assert inside == "true"
    assert os.environ["OMP_PROC_BIND"] == "spread"


@pytest.mark.parametrize(
    ("cores", "enabled", "operator_places"),
    [({0}, True, None), ({0, 1}, False, None), ({0, 1}, True, "{1}")],
    ids=["one core", "not a CPU engine", "operator's places"],
)
def test_leaves_the_environment_alone(
    monkeypatch: pytest.MonkeyPatch, cores: set[int], enabled: bool, operator_places: str | None
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: cores)
    if operator_places is not None:
        monkeypatch.setenv("OMP_PLACES", operator_places)

    with engine_threads_bound(enabled=enabled):
        inside = (os.environ.get("OMP_PLACES"), os.environ.get("OMP_PROC_BIND"))

    assert inside == (operator_places, None)
