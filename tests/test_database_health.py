"""One outage, one line each way: the health state logs changes, not attempts."""

from __future__ import annotations

import logging
import time

import pytest

from apicron.services.health import DatabaseHealth


def test_one_line_when_it_goes_and_one_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = DatabaseHealth()
    health.SETTLE_SECONDS = 0.2
    caplog.set_level(logging.INFO, "apicron.database")
    health.succeeded()
    assert caplog.records == [] and health.ok
    for _ in range(5):
        health.failed(ConnectionError("connection refused\nsecond line"))
    assert not health.ok
    # A call slipping through while the server shuts down is not "back".
    health.succeeded()
    health.failed(ConnectionError("connection refused"))
    assert not health.ok
    time.sleep(0.25)
    health.succeeded()
    health.succeeded()
    assert health.ok
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith("database unreachable (connection refused)")
    assert "second line" not in messages[0]
    assert messages[1].startswith("database reachable again after")
