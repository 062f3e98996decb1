"""The server's garbage-collector pace (apicron.collector): passes spaced out, start-up
frozen out of them, and garbage cycles still collected without anyone asking."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from apicron.collector import THRESHOLDS, settle_collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_is_frozen_and_passes_are_spaced_out() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    settle_collector()
    assert gc.get_freeze_count() > 1000  # the modules and objects made so far
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] > 700  # CPython's default young threshold


@pytest.mark.usefixtures("restored_collector")
def test_garbage_cycles_are_still_collected_on_their_own() -> None:
    settle_collector()
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    # No gc.collect(): allocating past the young threshold must start a pass by itself.
    keep: list[list[int]] = [[] for _ in range(THRESHOLDS[0] * 3)]
    assert gone() is None
    assert len(keep) == THRESHOLDS[0] * 3
