"""Fuzzing the two parsers anyone can reach: the cron parser (any text a user types) and the
gateway's authorization (any headers a caller sends).

The property is the same for both: an answer, or one of our own refusals naming the field
(cron) or saying 401 (gateway); never another exception. test_signing fuzzes
``verify_request`` itself; here the whole ``authorize`` pipeline is fuzzed around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from apicron.domain.errors import ApicronError, InvalidInput
from apicron.domain.models import (
    ApiCreate,
    AppCreate,
    GroupCreate,
    InstanceParams,
    PreviewRequest,
    PublishedApi,
    TaskCreate,
)
from apicron.domain.validation import validate
from apicron.gateway.auth import authorize
from apicron.gateway.errors import GatewayError
from apicron.gateway.routing import RouteTable
from apicron.gateway.snapshot import AppCredential, GatewaySnapshot
from apicron.server import open_runtime
from apicron.services import apis, apps, groups, preview, tasks
from apicron.services.context import Context
from apicron.settings import load_settings
from apicron.signing import ALGORITHM, sign_request
from apicron.triggers import build_trigger, parse_cron
from apicron.triggers.cron_fields import DAY_NAMES, MONTH_NAMES

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)

# -- the cron parser ----------------------------------------------------------------------------

TOKENS = st.one_of(
    st.integers(-2, 100).map(str),
    st.sampled_from(["*", "?", "L", "W", "LW", "#", "/", "-", ",", "L-3", "15W", "6#3", "5L",
                     "*/0", "0/", "/5", "--", ",,", "99999999999", "1e3", "０", "٣"]),
    st.sampled_from(MONTH_NAMES + DAY_NAMES + ("JANUARY", "mon", "Sun", "FOO")),
)
FIELD = st.lists(TOKENS, min_size=1, max_size=4).map("".join)
NEAR_VALID = st.one_of(
    st.lists(FIELD, min_size=4, max_size=8).map(" ".join),
    # a valid Quartz expression with one field replaced
    st.tuples(st.integers(0, 6), FIELD).map(
        lambda change: " ".join(
            FIELD_TEXT if i != change[0] else change[1]
            for i, FIELD_TEXT in enumerate(["0", "0", "12", "?", "*", "6#3", "2030"])
        )
    ),
    st.sampled_from(["@daily", "@hourly x", "@reboot", "@"]).map(str),
)
SEPARATORS = st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u2003", ""])


def parse_or_refuse(expression: str) -> None:
    """Parsed, or refused with InvalidInput naming the field (anything else escapes)."""
    refusal: InvalidInput | None = None
    try:
        parse_cron(expression)
    except InvalidInput as error:
        refusal = error
    if refusal is not None:
        assert refusal.field == "cron_expression", refusal
        assert refusal.rule and refusal.message.startswith("cron_expression: "), refusal
        assert len(refusal.message) < 2000


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ANY_TEXT, NEAR_VALID))
def test_the_cron_parser_answers_or_refuses_naming_the_field(expression: str) -> None:
    parse_or_refuse(expression)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(FIELD, SEPARATORS), min_size=1, max_size=8))
def test_any_spacing_between_fields_is_parsed_or_refused(parts: list[tuple[str, str]]) -> None:
    parse_or_refuse("".join(field + separator for field, separator in parts))


@pytest.mark.parametrize("value", [None, 7, b"* * * * * ?", ["*"] * 6])
def test_a_cron_expression_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_cron(value)  # type: ignore[arg-type]
    assert caught.value.field == "cron_expression"


ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                         "Asia/Kathmandu", "Pacific/Chatham", "Nowhere/City", ""])
MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    expression=st.one_of(NEAR_VALID, ANY_TEXT),
    timezone=ZONES,
    effective=MOMENTS,
    end=st.none() | MOMENTS,
    unit=st.none() | st.sampled_from(["MINUTE", "MONTH", "YEAR"]),
    value=st.none() | st.integers(-1, 61),
    trigger_type=st.sampled_from(["CRON", "CALENDAR", "cron"]),
)
def test_a_whole_trigger_is_built_or_refused_naming_a_field_and_previews_without_error(
    expression: str, timezone: str, effective: datetime, end: datetime | None,
    unit: str | None, value: int | None, trigger_type: str,
) -> None:
    try:
        schedule = build_trigger(
            trigger_type=trigger_type,
            cron_expression=expression if trigger_type == "CRON" else None,
            interval_unit=unit if trigger_type == "CALENDAR" else None,
            interval_value=value if trigger_type == "CALENDAR" else None,
            effective_time=effective, timezone=timezone, end_time=end,
        )
    except InvalidInput as error:
        refusal = error
    else:
        fires = schedule.preview(effective, 3)
        assert fires and all(f.at >= schedule.effective_time for f in fires)
        assert fires == sorted(fires, key=lambda f: f.at)
        assert schedule.description
        return
    assert refusal.field in {"trigger_type", "cron_expression", "interval_unit",
                             "interval_value", "timezone", "end_time", "effective_time"}, refusal


# -- times and zones through the services ------------------------------------------------------

# Zones at the ends of the offset range (+14, -11, -12 as once used) and with odd offsets.
EDGE_ZONES = st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Niue", "Pacific/Apia",
                              "Asia/Tokyo", "America/St_Johns", "Asia/Kathmandu",
                              "America/New_York", "Etc/GMT+12", "Etc/GMT-14"])
OFFSETS = st.one_of(
    st.just(""), st.just("Z"),
    st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)).map(
        lambda o: f"{o[0]}{o[1]:02d}:{o[2]:02d}"),
)
YEARS = st.one_of(st.integers(1, 3), st.integers(1968, 1971), st.integers(2020, 2100),
                  st.integers(8997, 9999))
TIME_TEXT = st.builds(
    lambda y, mo, d, h, mi, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00{off}",
    YEARS, st.integers(1, 12), st.integers(1, 28), st.integers(0, 23), st.integers(0, 59),
    OFFSETS,
)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, str, str]]:
    """A real runtime on a SQLite file, with an app and a published API it owns."""
    data_dir = tmp_path_factory.mktemp("fuzz-services")
    runtime = open_runtime(
        load_settings({"APICRON_DATA_DIR": str(data_dir), "APICRON_ADMIN_TOKEN": "t" * 32}),
        announce_token=False,
    )
    ctx = runtime.ctx
    app = apps.create_app(ctx, AppCreate(name="fuzzapp"))
    group = groups.create_group(ctx, GroupCreate(name="fuzzgrp", app_id=app.id))
    api = apis.create_api(ctx, ApiCreate(group_id=group.id, name="fuzzapi", method="POST",
                                         path="/fuzz", backend_url="http://127.0.0.1:9/x",
                                         publish=True))
    yield ctx, app.id, api.id
    ctx.store.close()


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    effective=st.none() | TIME_TEXT, end=st.none() | TIME_TEXT, zone=EDGE_ZONES,
    trigger=st.sampled_from([
        {"trigger_type": "CRON", "cron_expression": "0 0 12 ? * 6#3"},
        {"trigger_type": "CRON", "cron_expression": "0 30 2 * * *"},
        {"trigger_type": "CALENDAR", "interval_unit": "MINUTE"},
        {"trigger_type": "CALENDAR", "interval_unit": "MONTH", "interval_value": 7},
    ]),
)
def test_any_time_in_any_zone_is_answered_or_refused_naming_its_field(
    services: tuple[Context, str, str], effective: str | None, end: str | None, zone: str,
    trigger: dict[str, Any],
) -> None:
    """Issue 13 §4: times whose conversion left years 1-9999 crashed create and preview."""
    ctx, app_id, api_id = services
    fields = {"effective_time": effective, "end_time": end, "timezone": zone, **trigger}
    refusal: ApicronError | None = None
    try:
        preview.preview(ctx, validate(PreviewRequest, fields))
        task = tasks.create_task(ctx, validate(TaskCreate, {
            "name": f"t{uuid.uuid4().hex[:12]}", "app_id": app_id, "api_id": api_id, **fields}))
    except ApicronError as error:
        refusal = error
    if refusal is not None:
        assert refusal.status == 400, refusal
        assert {p.field for p in refusal.problems} <= {
            "effective_time", "end_time", "timezone", "cron_expression"}, refusal
        return
    started = tasks.start_task(ctx, task.id)
    tasks.stop_task(ctx, started.id)
    tasks.delete_task(ctx, task.id)


# -- the gateway's authorization ---------------------------------------------------------------

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = "fuzz-app-key-0123456789abcdef012"
SECRET = "fuzz-secret-never-echoed-0123456789"
PATH = "/fuzz/orders/{id}"


def snapshot(*, app_secret: bool = True) -> GatewaySnapshot:
    api = PublishedApi(
        id="api-1", group_id="grp-1", app_id="app-1", name="orders", method="POST", path=PATH,
        auth_type="APP", backend_url="http://127.0.0.1:9/x", backend_timeout_ms=1000,
        published_at=NOW,
    )
    app = AppCredential(app_id="app-1", name="owner", key=KEY, secret_encrypted=SECRET)
    return GatewaySnapshot(
        version=1, params=InstanceParams(app_route=True, app_secret=app_secret),
        routes=RouteTable([api]), routes_by_domain={}, grants=frozenset(),
        apps_by_key={KEY: app}, apps_by_id={"app-1": app}, apis_by_id={"api-1": api},
        decrypt=lambda encrypted: encrypted,  # the "encrypted" secret is the secret here
    )


SNAPSHOTS = {True: snapshot(app_secret=True), False: snapshot(app_secret=False)}
NAMES = st.one_of(
    st.sampled_from(["Authorization", "authorization", "X-HW-ID", "x-hw-appkey", "X-HW-AppKey",
                     "X-Sdk-Date", "X-Sdk-Content-Sha256", "Host", "Content-Type"]),
    ANY_TEXT,
)
VALUES = st.one_of(
    ANY_TEXT,
    st.sampled_from([KEY, SECRET[:-1], SECRET + " x", f"{ALGORITHM} Access={KEY}",
                     f"{ALGORITHM} Access={KEY}, SignedHeaders=host;x-sdk-date, Signature="
                     + "0" * 64, "20260501T120000Z", "UNSIGNED-PAYLOAD", ""]),
)


def refusal(**call: object) -> GatewayError | None:
    try:
        authorize(**call)  # type: ignore[arg-type]
    except GatewayError as error:
        return error
    return None


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(NAMES, VALUES), max_size=8),
    query=ANY_TEXT,
    body=st.binary(max_size=64),
    app_secret=st.booleans(),
)
def test_any_headers_without_the_secret_are_401_and_never_echo_it(
    headers: list[tuple[str, str]], query: str, body: bytes, app_secret: bool
) -> None:
    error = refusal(
        snapshot=SNAPSHOTS[app_secret], method="POST", host="gw", raw_path="/fuzz/orders/7",
        query_string=query, headers=CIMultiDict(headers), body=body, now=NOW,
    )
    assert error is not None, headers
    assert (error.status, error.code) == (401, "UNAUTHORIZED"), error
    assert SECRET not in error.message


@settings(max_examples=200, deadline=None)
@given(
    extra=st.lists(st.tuples(NAMES, VALUES), max_size=4),
    skew=st.integers(-20 * 60, 20 * 60),
    body=st.binary(max_size=64),
)
def test_a_signed_call_passes_or_is_401_whatever_else_comes_along(
    extra: list[tuple[str, str]], skew: int, body: bytes
) -> None:
    signed = sign_request(
        "POST", "http://gw/fuzz/orders/7?a=1", {}, body, key=KEY, secret=SECRET,
        sdk_date=NOW + timedelta(seconds=skew),
    )
    headers = CIMultiDict([*signed.items(), *extra])
    error = refusal(
        snapshot=SNAPSHOTS[True], method="POST", host="gw", raw_path="/fuzz/orders/7",
        query_string="a=1", headers=headers, body=body, now=NOW,
    )
    if error is None:
        assert abs(skew) <= 15 * 60
    else:
        assert (error.status, error.code) == (401, "UNAUTHORIZED"), error
        assert SECRET not in error.message and signed["Authorization"] not in error.message


@settings(max_examples=300, deadline=None)
@given(
    method=ANY_TEXT, host=ANY_TEXT, raw_path=ANY_TEXT, query=ANY_TEXT,
    headers=st.lists(st.tuples(NAMES, VALUES), max_size=4),
)
def test_any_request_is_routed_or_refused_with_a_gateway_error(
    method: str, host: str, raw_path: str, query: str, headers: list[tuple[str, str]]
) -> None:
    error = refusal(
        snapshot=SNAPSHOTS[True], method=method, host=host, raw_path=raw_path,
        query_string=query, headers=CIMultiDict(headers), body=b"", now=NOW,
    )
    assert error is not None  # no request here carries the secret
    assert error.status in (401, 404), error
    assert isinstance(error, ApicronError) and error.message
