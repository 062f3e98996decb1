"""The Create Scheduled Task form's live preview in a real browser: warnings about what a
user may misread, and a note on every fire time a DST change touched (issue 13 §3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.console_helpers import console_page, module_fixtures
from tests.servers import ApicronProcess

console_server, browser, session_state = module_fixtures(
    "console-preview", server="console_server", state="session_state")


@pytest.fixture
def form(
    browser: Browser, session_state: StorageState, console_server: ApicronProcess
) -> Iterator[Page]:
    with console_page(browser, session_state) as p:
        p.goto(f"{console_server.url}/console/tasks/new")
        yield p


def test_a_numeric_quartz_day_of_week_is_warned_about_until_names_are_used(form: Page) -> None:
    form.get_by_label("Time zone").select_option("UTC")
    form.get_by_label("Cron Expression").fill("0 0 9 ? * 1-5")
    warnings = form.locator("#preview-warnings li")
    expect(warnings).to_have_count(1)
    expect(warnings).to_contain_text("in Quartz 1 = Sunday: 1-5 is Sunday through Thursday")
    expect(warnings).to_contain_text("'MON-FRI' for Monday through Friday")
    expect(form.locator("#preview-description")).to_contain_text("Sunday through Thursday")
    form.get_by_label("Cron Expression").fill("0 0 9 ? * MON-FRI")
    expect(form.locator("#preview-description")).to_contain_text("Monday through Friday")
    expect(warnings).to_have_count(0)
    expect(form.locator("#preview-warnings")).to_be_hidden()


def test_both_passes_of_a_repeated_hour_are_listed_and_noted(form: Page) -> None:
    form.get_by_label("Time zone").select_option("America/New_York")
    # 2 November 2031: New York falls back from 02:00 EDT to 01:00 EST.
    form.get_by_label("Effective Time").fill("2031-11-02T00:30:00")
    form.get_by_label("Cron Expression").fill("*/30 * * * *")
    times = form.locator("#preview-times li")
    expect(times).to_have_count(5)
    expect(times.nth(0).locator(".badge-dst")).to_have_count(0)
    expect(times.nth(1)).to_contain_text("2031-11-02 01:00:00-04:00")
    expect(times.nth(1).locator(".dst-note")).to_contain_text("first pass")
    expect(times.nth(3)).to_contain_text("2031-11-02 01:00:00-05:00")
    expect(times.nth(3).locator(".badge-dst")).to_have_text("DST change")
    expect(times.nth(3).locator(".dst-note")).to_contain_text("second pass")


def test_a_fixed_time_in_a_repeated_hour_is_noted_to_fire_once(form: Page) -> None:
    form.get_by_label("Time zone").select_option("America/New_York")
    form.get_by_label("Effective Time").fill("2031-11-01T12:00:00")
    form.get_by_label("Cron Expression").fill("0 30 1 * * ?")
    times = form.locator("#preview-times li")
    expect(times.nth(0)).to_contain_text("2031-11-02 01:30:00-04:00")
    expect(times.nth(0).locator(".dst-note")).to_contain_text("fires once, at its first pass")
    expect(times.nth(1)).to_contain_text("2031-11-03 01:30:00-05:00")
    expect(times.nth(1).locator(".badge-dst")).to_have_count(0)


def test_a_calendar_day_typed_into_a_gap_keeps_its_wall_time(form: Page) -> None:
    form.get_by_label("Time zone").select_option("Europe/Berlin")
    # 30 March 2031: Berlin jumps from 02:00 to 03:00; 02:30 does not exist that day.
    form.get_by_label("Effective Time").fill("2031-03-30T02:30:00")
    form.get_by_role("radio", name="CALENDAR").check()
    form.get_by_label("Every").fill("1")
    form.get_by_label("Unit").select_option("DAY")
    expect(form.locator("#preview-description")).to_contain_text("Every day at 02:30")
    times = form.locator("#preview-times li")
    expect(times.nth(0)).to_contain_text("2031-03-30 03:00:00+02:00")
    expect(times.nth(0).locator(".dst-note")).to_contain_text("fired at the jump")
    expect(times.nth(1)).to_contain_text("2031-03-31 02:30:00+02:00")
