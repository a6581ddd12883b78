"""Runs the detector benchmark under pytest on 200,000 rows, without MiniLM: `pytest tests/bench -s -m bench`.

It asserts the shape of the tables, never a timing: a noisy machine must not fail a build.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.bench.bench_detectors import onset_to_alert, render_detectors


@pytest.mark.timeout(600)
def test_detector_benchmark_prints_its_tables() -> None:
    detectors = render_detectors(200_000, None)
    onset = asyncio.run(onset_to_alert(60.0, None))

    print(detectors)
    print(onset)
    assert detectors.count("PASS") + detectors.count("MISS") == 6
    assert any(alert_id.startswith("drift.") for alert_id, _ in onset[1:])
