"""apicron's scheduled calls prove their occurrence: the gateway drops every X-Apicron-*
header a caller sends, and the scheduler's calls carry a signature over the occurrence
headers, the method and the body, with a per-API key a backend checks with
:func:`apicron.signing.verify_occurrence`. Driven clock, real store (SQLite and
PostgreSQL), real gateway code, a real backend on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from apicron.domain.errors import Unauthorized
from apicron.domain.models import AppCreate
from apicron.services import apps
from apicron.signing import (
    OCCURRENCE_SIGNATURE_HEADER,
    Occurrence,
    occurrence_key,
    occurrence_string,
    sign_occurrence,
    verify_occurrence,
)
from tests.conftest import unique
from tests.engine_harness import Harness

OCCURRENCE = Occurrence("task1", "exec1", "2027-03-01T08:00:00Z", 2)
KEY = occurrence_key("the-owner-secret", "api1")


def test_the_key_and_signature_follow_the_documented_formula() -> None:
    by_hand = hmac.new(b"the-owner-secret", b"apicron-occurrence-key-v1\napi1",
                       hashlib.sha256).hexdigest()
    assert by_hand == KEY
    headers = sign_occurrence(KEY, OCCURRENCE, "post", b"{}")
    text = ("APICRON-OCCURRENCE-V1\ntask1\nexec1\n2027-03-01T08:00:00Z\n2\nPOST\n"
            + hashlib.sha256(b"{}").hexdigest())
    assert occurrence_string(OCCURRENCE, "post", b"{}") == text
    signature = hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()
    assert headers == {
        "X-Apicron-Task-Id": "task1", "X-Apicron-Execution-Id": "exec1",
        "X-Apicron-Scheduled-Time": "2027-03-01T08:00:00Z", "X-Apicron-Attempt": "2",
        OCCURRENCE_SIGNATURE_HEADER: f"v1={signature}",
    }
    lowered = {name.lower(): value for name, value in headers.items()}
    assert verify_occurrence(KEY, "POST", lowered, b"{}") == OCCURRENCE


@pytest.mark.parametrize(
    ("change", "body", "method", "key"),
    [
        pytest.param({"X-Apicron-Execution-Id": "exec2"}, b"{}", "POST", KEY, id="execution"),
        pytest.param({"X-Apicron-Task-Id": "task2"}, b"{}", "POST", KEY, id="task"),
        pytest.param({"X-Apicron-Attempt": "3"}, b"{}", "POST", KEY, id="attempt"),
        pytest.param({"X-Apicron-Scheduled-Time": "2027-03-01T08:00:01Z"}, b"{}", "POST", KEY,
                     id="time"),
        pytest.param({}, b"{ }", "POST", KEY, id="body"),
        pytest.param({}, b"{}", "PUT", KEY, id="method"),
        pytest.param({}, b"{}", "POST", occurrence_key("the-owner-secret", "api2"),
                     id="another-api"),
        pytest.param({}, b"{}", "POST", occurrence_key("another-secret", "api1"),
                     id="another-secret"),
    ],
)
def test_a_changed_occurrence_body_method_or_key_is_refused(
    change: dict[str, str], body: bytes, method: str, key: str
) -> None:
    headers = sign_occurrence(KEY, OCCURRENCE, "POST", b"{}") | change
    with pytest.raises(Unauthorized, match="does not match"):
        verify_occurrence(key, method, headers, body)


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "X-Apicron-Task-Id is missing"),
        ({OCCURRENCE_SIGNATURE_HEADER: "v2=" + "a" * 64}, "must be v1=<64 hex digits>"),
        ({OCCURRENCE_SIGNATURE_HEADER: "v1=abc"}, "must be v1=<64 hex digits>"),
        ({"X-Apicron-Attempt": "٣"}, "X-Apicron-Attempt must be a number"),
    ],
)
def test_a_malformed_or_missing_header_is_refused(headers: dict[str, str], words: str) -> None:
    sent = sign_occurrence(KEY, OCCURRENCE, "POST", b"") | headers if headers else {}
    with pytest.raises(Unauthorized, match=words):
        verify_occurrence(KEY, "POST", sent, b"")


def _scenario(tmp_path: Path, database_url: str | None, granted: bool) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            owner = apps.create_app(h.ctx, AppCreate(name=unique("owner")))
            owned = h.api(owner=owner.id, method="PUT")
            caller = owned
            if granted:
                other = apps.create_app(h.ctx, AppCreate(name=unique("caller")))
                h.grant(other.id, owned["api_id"])
                caller = {**owned, "app_id": other.id}
            body = json.dumps({"n": 1})
            task_id = h.task(caller, max_retries=1, cron_expression="0 0 * * * ?", request={
                "body": {"content_type": "application/json", "content": body},
            })
            h.backend.responses = [(503, {}, "busy"), (200, {}, "ok")]
            await h.advance(3)
            (execution,) = h.history(task_id)
            assert execution.status == "SUCCEEDED" and len(h.backend.received) == 2
            key = occurrence_key(owner.secret, owned["api_id"])
            for number, got in enumerate(h.backend.received, start=1):
                occurrence = verify_occurrence(key, got["method"], got["headers"], got["body"])
                assert occurrence == Occurrence(task_id, execution.id,
                                                "2027-03-01T08:00:00Z", number)

    asyncio.run(main())


def test_a_scheduled_call_and_its_retry_carry_a_valid_occurrence_signature(
    tmp_path: Path, database_url: str | None
) -> None:
    _scenario(tmp_path, database_url, granted=False)


def test_a_granted_apps_call_is_signed_with_the_apis_own_key(
    tmp_path: Path, database_url: str | None
) -> None:
    _scenario(tmp_path, database_url, granted=True)
