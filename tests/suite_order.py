"""The order the suite's files are handed to pytest-xdist workers: the longest first.

``scripts/test.sh`` runs the parallel part with ``--dist loadfile``: each file goes whole to
one worker, in collection order. Alphabetical order left long files (schemathesis, ~260 s)
to start near the end, with the other worker idle once it ran out of files. Handing the
longest files out first (the classic longest-processing-time-first rule) lets the short
ones fill in at the end.

The figures are each file's seconds in the clean-clone run of 2026-11-30 (2 workers,
``--durations``); they only rank files, so they need not be exact. A file not listed keeps
its alphabetical place after the listed ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

LONGEST_FIRST: Sequence[str] = (
    "test_openapi_schemathesis.py",  # 257 s
    "test_engine_misfire.py",  # 145 s
    "test_jitter_engine.py",  # 120 s
    "test_access_cli.py",  # 70 s
    "test_calendars_cli.py",  # 69 s
    "test_console_accessibility.py",  # 65 s
    "test_secret_rotation.py",  # 64 s
    "test_client_install.py",  # 52 s
    "test_cli.py",  # 52 s
    "test_console_roles.py",  # 43 s
    "test_readme.py",  # 42 s
    "test_apply.py",  # 37 s
    "test_engine_crash.py",  # 35 s
    "test_task_organise_cli.py",  # 33 s
    "test_alerts_cli.py",  # 32 s
    "test_probes.py",  # 30 s
    "test_engine.py",  # 27 s
)


def longest_first(items: list[pytest.Item]) -> None:
    """Reorder ``items`` in place: files in ``LONGEST_FIRST`` first, in its order.

    The sort is stable, so tests keep their order within a file and unlisted files keep
    theirs; every xdist worker computes the same order, as xdist requires.
    """
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
