"""Issue 18 through the CLI, run as real processes against a real server: ``--at`` (also
"in 10 minutes"), ``--after-completion``, jitter and the call policy flags; and the
relative-time reader on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apicron.cli.one_off_inputs import relative_seconds
from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_cli import ok, refused


@pytest.mark.parametrize(("text", "seconds"), [
    ("in 10 minutes", 600), ("in 2h", 7200), ("in 1h 30m", 5400), ("IN 90 s", 90),
    ("in 1 day and 2 hours", 93600), ("+45min", 2700), ("2027-03-01T09:00:00Z", None),
    ("2027-03-01T09:00:00", None),
])
def test_relative_times_read_as_seconds_from_now(text: str, seconds: int | None) -> None:
    assert relative_seconds(text) == seconds


@pytest.mark.parametrize("text", ["in ten minutes", "in 5 fortnights", "in x", "in 5"])
def test_unreadable_relative_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="in 10 minutes"):
        relative_seconds(text)


def test_one_off_jitter_and_call_policy_flags(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()
    before = datetime.now(UTC)
    task = ok(
        server, "task", "create", unique("task"), "--app", app["id"], "--api", api["id"],
        "--at", "in 10 minutes", "--after-completion", "delete",
        "--jitter", "90", "--jitter-mode", "stable", "--timeout-ms", "7000",
        "--retry-backoff-base-ms", "200", "--retry-backoff-cap-ms", "4000",
    )
    after = datetime.now(UTC)
    run_at = datetime.fromisoformat(task["run_at"])
    assert before + timedelta(minutes=10) - timedelta(seconds=1) <= run_at
    assert run_at <= after + timedelta(minutes=10)
    assert (task["trigger_type"], task["after_completion"]) == ("AT", "DELETE")
    assert (task["jitter_s"], task["jitter_mode"], task["timeout_ms"]) == (90, "STABLE", 7000)
    assert (task["retry_backoff_base_ms"], task["retry_backoff_cap_ms"]) == (200, 4000)

    changed = ok(server, "task", "update", task["id"], "--cron", "0 0 9 * * ?",
                 "--no-timeout", "--jitter", "0")
    assert (changed["trigger_type"], changed["run_at"]) == ("CRON", None)
    assert (changed["timeout_ms"], changed["jitter_s"]) == (None, 0)
    again = ok(server, "task", "update", task["id"], "--at", "2099-01-01T09:00:00",
               "--after-completion", "KEEP")
    assert (again["trigger_type"], again["after_completion"]) == ("AT", "KEEP")
    assert again["run_at"].startswith("2099-01-01")


def test_bad_flags_name_the_option_or_field(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()
    common = ["task", "create", unique("task"), "--app", app["id"], "--api", api["id"]]
    assert "--at" in refused(server, 2, *common, "--at", "in ten minutes")
    assert "--at" in refused(server, 2, *common, "--at", "in 1h", "--cron", "0 0 9 * * ?")
    assert "run_at" in refused(server, 1, *common, "--at", "2020-01-01T00:00:00Z")
    assert "jitter_s" in refused(server, 1, *common, "--cron", "0 0 9 * * ?",
                                 "--jitter", "50000")
