"""The benchmark harness at 1/100 scale: every scenario runs and prints its table.

Timings are not asserted (they depend on the machine); this only keeps the harness
working. Peers that are not installed (nginx, wrk) are reported as skipped, not failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("== lateness:", "== burst:", "== capacity:", "== scaleout:", "== scale:",
          "== gateway:", "== faults:")


@pytest.mark.slow
@pytest.mark.serial
def test_it_runs_every_scenario_at_quick_scale_and_prints_each_table() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=420,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    for title in TABLES:
        assert title in run.stdout, f"{title} missing from:\n{output[-4000:]}"
    assert ": FAILED ==" not in run.stdout  # a scenario that raised
