"""SDK-HMAC-SHA256 signing and verification (apicron.signing)."""

from __future__ import annotations

import asyncio
import doctest
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
import yarl
from aiohttp import web
from aiohttp.test_utils import TestServer, make_mocked_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from apicron import signing
from apicron.domain.errors import InvalidInput, Unauthorized
from apicron.signing import (
    ALGORITHM,
    SignedAuthorization,
    canonical_request,
    parse_authorization,
    sign_request,
    string_to_sign,
    verify_request,
)

# The published Huawei API Gateway example.
VECTOR_URL = (
    "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
    "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
)
VECTOR_KEY = "QTWAOYTTINDUT2QVKYUC"
VECTOR_SECRET = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
VECTOR_SIGNATURE = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
VECTOR_AUTHORIZATION = (
    f"SDK-HMAC-SHA256 Access={VECTOR_KEY}, SignedHeaders=content-type;host;x-sdk-date, "
    f"Signature={VECTOR_SIGNATURE}"
)
VECTOR_CANONICAL = (
    "GET\n"
    "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n"
    "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n"
    "content-type:application/json\n"
    "host:service.region.example.com\n"
    "x-sdk-date:20191115T033655Z\n"
    "\n"
    "content-type;host;x-sdk-date\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

KEY = "app-7f3a"
SECRET = "correct-horse-battery-staple-0123456789"
SECRETS = {KEY: SECRET, VECTOR_KEY: VECTOR_SECRET}
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://api.example.com/v1/orders/42?limit=2&tag=a"
BODY = b'{"item": "book", "qty": 2}'


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | str = b"",
    *,
    when: datetime = NOW,
    key: str = KEY,
    secret: str = SECRET,
) -> dict[str, str]:
    return sign_request(method, url, headers, body, key=key, secret=secret, sdk_date=when)


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    query: str | list[tuple[str, str]] = "",
    now: datetime = NOW,
    **options: object,
) -> str:
    return verify_request(
        method,
        target,
        query,
        headers,
        body,
        secret_for_key=SECRETS.get,
        now=now,
        **options,  # type: ignore[arg-type]
    )


def target_of(url: str) -> str:
    """The request target exactly as written in ``url``."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def aiohttp_target(url: str) -> str:
    """The request target aiohttp's client (yarl) puts on the wire for ``url``."""
    return yarl.URL(url).raw_path_qs


def httpx_target(url: str) -> str:
    return httpx.URL(url).raw_path.decode("ascii")


def reject(
    method: str, target: str, headers: Mapping[str, str], body: bytes = b"", **kw: object
) -> str:
    with pytest.raises(Unauthorized) as caught:
        verify(method, target, headers, body, **kw)  # type: ignore[arg-type]
    message = str(caught.value)
    assert SECRET not in message
    return message


def expected_signature(
    method: str, target: str, headers: Mapping[str, str], body: bytes, secret: str = SECRET
) -> str:
    """What the gateway computes for a request, from the public helpers."""
    auth = parse_authorization(headers["Authorization"])
    canonical = canonical_request(method, target, "", headers, auth.signed_headers, body)
    sts = string_to_sign(headers["X-Sdk-Date"], canonical)
    return hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()


# -- the published vector ---------------------------------------------------------------


def test_it_matches_the_published_vector() -> None:
    headers = sign_request(
        "GET",
        VECTOR_URL,
        {
            "Content-Type": "application/json",
            "Host": "service.region.example.com",
            "X-Sdk-Date": "20191115T033655Z",
        },
        b"",
        key=VECTOR_KEY,
        secret=VECTOR_SECRET,
    )

    assert headers["Authorization"] == VECTOR_AUTHORIZATION
    assert headers["X-Sdk-Date"] == "20191115T033655Z"


def test_it_builds_the_published_canonical_request_and_string_to_sign() -> None:
    headers = {
        "Content-Type": "application/json",
        "Host": "service.region.example.com",
        "X-Sdk-Date": "20191115T033655Z",
    }
    canonical = canonical_request("GET", target_of(VECTOR_URL), "", headers)

    assert canonical == VECTOR_CANONICAL
    assert string_to_sign("20191115T033655Z", canonical) == (
        "SDK-HMAC-SHA256\n20191115T033655Z\n"
        + hashlib.sha256(VECTOR_CANONICAL.encode()).hexdigest()
    )


def test_it_adds_host_from_the_url_and_still_matches_the_vector() -> None:
    headers = sign_request(
        "GET",
        VECTOR_URL,
        {"Content-Type": "application/json"},
        b"",
        key=VECTOR_KEY,
        secret=VECTOR_SECRET,
        sdk_date=datetime(2019, 11, 15, 3, 36, 55, tzinfo=UTC),
    )

    assert headers["Host"] == "service.region.example.com"
    assert headers["X-Sdk-Date"] == "20191115T033655Z"
    assert headers["Authorization"] == VECTOR_AUTHORIZATION


def test_it_verifies_the_published_vector() -> None:
    headers = {
        "Content-Type": "application/json",
        "Host": "service.region.example.com",
        "X-Sdk-Date": "20191115T033655Z",
        "Authorization": VECTOR_AUTHORIZATION,
    }
    now = datetime(2019, 11, 15, 3, 40, tzinfo=UTC)

    assert verify("GET", target_of(VECTOR_URL), headers, now=now) == VECTOR_KEY


def test_it_passes_its_doctests() -> None:
    assert doctest.testmod(signing, raise_on_error=False).failed == 0


# -- round trips ------------------------------------------------------------------------

QUERIES = [
    pytest.param("", id="no-query"),
    pytest.param("tag=b&tag=a&tag=c&limit=2", id="repeated-names"),
    pytest.param("q=hello world&name=a  b", id="spaces"),
    pytest.param("q=hello%20world&r=hello+world", id="encoded-spaces"),
    pytest.param("city=Zürich&名前=値&emoji=🦀", id="unicode"),
    pytest.param("expr=a%2Bb%3Dc%26d&path=%2Fx%2Fy&at=%40&x=!$'()*,;:@/?", id="reserved"),
    pytest.param("empty=&flag&x=1&=orphan&&", id="empty-values"),
]
PATHS = [
    pytest.param("/v1/orders/42", id="plain"),
    pytest.param("/v1/orders/a b/items", id="space"),
    pytest.param("/v1/städte/€uro", id="unicode"),
    pytest.param("/v1/a%2Fb/c%20d", id="percent-encoded"),
    pytest.param("/", id="root"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("query", QUERIES)
def test_it_round_trips_what_each_client_library_sends(method: str, path: str, query: str) -> None:
    url = f"https://api.example.com{path}" + (f"?{query}" if query else "")
    body = b"" if method == "GET" else BODY
    headers = sign(method, url, {"Content-Type": "application/json", "X-Tenant": "acme"}, body)

    for target in {target_of(url), aiohttp_target(url), httpx_target(url)}:
        assert verify(method, target, headers, body) == KEY, target


def test_it_accepts_the_query_separately_raw_or_decoded() -> None:
    url = "https://api.example.com/v1/search?q=a+b&tag=x&tag=%C3%A4"
    headers = sign("GET", url)
    request = make_mocked_request("GET", aiohttp_target(url), headers=headers)

    assert verify("GET", "/v1/search", headers, query=request.rel_url.raw_query_string) == KEY
    assert verify("GET", "/v1/search", headers, query=list(request.query.items())) == KEY
    assert verify("GET", "/v1/search?ignored=1", headers, query="q=a%20b&tag=%C3%A4&tag=x") == KEY


def test_it_verifies_what_a_client_signed_for_a_space_when_the_server_sees_it_encoded() -> None:
    headers = sign("GET", "https://api.example.com/orders/a b")

    assert verify("GET", "/orders/a%20b", headers) == KEY
    assert verify("GET", "/orders/a b", headers) == KEY


def test_it_verifies_a_path_the_client_signed_already_percent_encoded() -> None:
    headers = sign("GET", "https://api.example.com/orders/a%20b/%C3%A4")

    assert verify("GET", "/orders/a%20b/%C3%A4", headers) == KEY
    assert verify("GET", "/orders/a%20b/%c3%a4", headers) == KEY  # lower-case hex


def test_it_keeps_an_encoded_slash_distinct_from_a_path_separator() -> None:
    headers = sign("GET", "https://api.example.com/files/a%2Fb")

    assert verify("GET", "/files/a%2Fb", headers) == KEY
    assert "signature does not match" in reject("GET", "/files/a/b", headers)


def test_it_reads_plus_in_a_query_as_a_space_and_percent_2b_as_a_plus() -> None:
    headers = sign("GET", "https://api.example.com/t?at=12:00+08:00")
    canonical = canonical_request("GET", "/t", "at=12%3A00%2B08%3A00", headers)

    assert verify("GET", "/t?at=12:00%2008:00", headers) == KEY
    assert "signature does not match" in reject("GET", "/t?at=12:00%2B08:00", headers)
    assert "\nat=12%3A00%2B08%3A00\n" in canonical


def test_it_sorts_query_names_then_values_and_gives_bare_names_an_empty_value() -> None:
    canonical = canonical_request("GET", "/x", "b=2&a=3&a=1&c&a=10", {"Host": "h"})

    assert canonical.split("\n")[2] == "a=1&a=10&a=3&b=2&c="


def test_it_ends_the_canonical_path_in_a_slash_so_a_trailing_slash_is_not_signed() -> None:
    # The reference signer's rule: "/v1/orders" and "/v1/orders/" sign the same.
    headers = sign("GET", "https://api.example.com/v1/orders")

    assert canonical_request("GET", "/v1/orders", "", headers).split("\n")[1] == "/v1/orders/"
    assert verify("GET", "/v1/orders/", headers) == KEY


def test_it_round_trips_through_a_real_aiohttp_gateway_with_aiohttp_and_httpx_clients() -> None:
    async def gateway(request: web.Request) -> web.Response:
        try:
            key = verify_request(
                request.method,
                request.raw_path,
                "",
                request.headers,
                await request.read(),
                secret_for_key=SECRETS.get,
                now=datetime.now(UTC),
            )
        except Unauthorized as error:
            return web.Response(status=401, text=str(error))
        return web.Response(text=key)

    async def scenario() -> list[tuple[int, str]]:
        import aiohttp

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", gateway)
        results = []
        async with TestServer(app) as server:
            base = str(server.make_url("")).rstrip("/")
            url = f"{base}/v1/orders/a b/ä?q=hello world&tag=b&tag=a&x=%2B&empty="
            async with aiohttp.ClientSession() as session:
                for method in ("GET", "POST", "PUT"):
                    body = b"" if method == "GET" else BODY
                    headers = sign_request(method, url, {}, body, key=KEY, secret=SECRET)
                    async with session.request(method, url, data=body, headers=headers) as resp:
                        results.append((resp.status, await resp.text()))
            async with httpx.AsyncClient() as client:
                for method in ("GET", "POST", "PUT"):
                    body = b"" if method == "GET" else BODY
                    headers = sign_request(method, url, {}, body, key=KEY, secret=SECRET)
                    response = await client.request(method, url, content=body, headers=headers)
                    results.append((response.status_code, response.text))
                headers = sign_request("POST", url, {}, BODY, key=KEY, secret=SECRET)
                response = await client.post(url, content=BODY + b" ", headers=headers)
                results.append((response.status_code, response.text))
        return results

    results = asyncio.run(scenario())

    assert results[:6] == [(200, KEY)] * 6
    assert results[6][0] == 401
    assert "signature does not match" in results[6][1]


# -- tampering --------------------------------------------------------------------------


def signed_post() -> dict[str, str]:
    return sign("POST", URL, {"Content-Type": "application/json", "X-Tenant": "acme"}, BODY)


@pytest.mark.parametrize(
    ("method", "target", "changes", "body"),
    [
        pytest.param(
            "POST", "/v1/orders/42?limit=2&tag=a", {"X-Tenant": "evil"}, BODY, id="header"
        ),
        pytest.param(
            "POST", "/v1/orders/42?limit=2&tag=a", {"Host": "other.example"}, BODY, id="host"
        ),
        pytest.param(
            "POST",
            "/v1/orders/42?limit=2&tag=a",
            {"X-Sdk-Date": "20260501T120100Z"},
            BODY,
            id="date",
        ),
        pytest.param("POST", "/v1/orders/42?limit=2&tag=a", {}, BODY + b" ", id="body"),
        pytest.param("POST", "/v1/orders/42?limit=2&tag=a", {}, b"", id="body-dropped"),
        pytest.param("POST", "/v1/orders/43?limit=2&tag=a", {}, BODY, id="path"),
        pytest.param("POST", "/v1/orders/42/x?limit=2&tag=a", {}, BODY, id="path-segment"),
        pytest.param("POST", "/v1/orders/42?limit=3&tag=a", {}, BODY, id="query-value"),
        pytest.param("POST", "/v1/orders/42?limit=2&tag=a&admin=1", {}, BODY, id="query-added"),
        pytest.param("POST", "/v1/orders/42?limit=2", {}, BODY, id="query-removed"),
        pytest.param("PUT", "/v1/orders/42?limit=2&tag=a", {}, BODY, id="method"),
    ],
)
def test_it_rejects_a_tampered_request(
    method: str, target: str, changes: dict[str, str], body: bytes
) -> None:
    headers = signed_post() | changes

    message = reject(method, target, headers, body)

    assert message.startswith("signature does not match")
    assert expected_signature(method, target, headers, body) not in message


def test_it_rejects_a_signature_made_with_another_secret() -> None:
    headers = sign("GET", URL, secret="not-the-secret")

    message = reject("GET", target_of(URL), headers)

    assert "signature does not match" in message
    assert expected_signature("GET", target_of(URL), headers, b"") not in message


def test_it_rejects_signed_headers_shortened_after_signing() -> None:
    headers = signed_post()
    headers["Authorization"] = headers["Authorization"].replace("content-type;", "")

    assert "signature does not match" in reject("POST", target_of(URL), headers, BODY)


def test_it_reports_the_canonical_request_hash_a_client_can_compare_with() -> None:
    headers = signed_post()
    target = "/v1/orders/43?limit=2&tag=a"

    message = reject("POST", target, headers, BODY)

    gateway_view = canonical_request("POST", target, "", headers, None, BODY)
    client_view = canonical_request("POST", target_of(URL), "", headers, None, BODY)
    assert hashlib.sha256(gateway_view.encode()).hexdigest() in message
    assert hashlib.sha256(client_view.encode()).hexdigest() not in message


# -- the clock --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "side"), [(timedelta(minutes=16), "ahead of"), (timedelta(minutes=-16), "behind")]
)
def test_it_rejects_a_date_16_minutes_away_either_way(offset: timedelta, side: str) -> None:
    headers = sign("GET", URL, when=NOW + offset)

    message = reject("GET", target_of(URL), headers)

    assert message.startswith(f"X-Sdk-Date {headers['X-Sdk-Date']} is 16 minutes {side} ")
    assert "(limit 15 minutes)" in message


@pytest.mark.parametrize("minutes", [-15, -14, 14, 15])
def test_it_accepts_a_date_up_to_15_minutes_away_either_way(minutes: int) -> None:
    headers = sign("GET", URL, when=NOW + timedelta(minutes=minutes))

    assert verify("GET", target_of(URL), headers) == KEY


def test_it_honours_a_custom_max_skew_and_a_naive_now_as_utc() -> None:
    headers = sign("GET", URL, when=NOW - timedelta(seconds=90))

    message = reject("GET", target_of(URL), headers, max_skew=timedelta(minutes=1))

    assert "1 minute 30 seconds behind the gateway clock (limit 1 minute)" in message
    assert verify("GET", target_of(URL), headers, now=NOW.replace(tzinfo=None)) == KEY


@pytest.mark.parametrize(
    "value",
    [
        "2026-05-01T12:00:00Z",
        "20260501T120000",
        "20261301T120000Z",
        "20260230T120000Z",
        "٢٠٢٦٠٥٠١T120000Z",
        "now",
        "20260501t120000z",
    ],
)
def test_it_rejects_a_malformed_date(value: str) -> None:
    headers = sign("GET", URL, {"X-Sdk-Date": value})

    assert "is not a UTC time like 20191115T033655Z" in reject("GET", target_of(URL), headers)


# -- what is signed ---------------------------------------------------------------------


def test_it_still_verifies_when_unsigned_headers_are_added_or_changed_after_signing() -> None:
    headers = sign("POST", URL, {"Content-Type": "application/json", "X_Trace_Id": "1"}, BODY)
    sent = headers | {
        "User-Agent": "python-httpx/0.28",
        "Content-Length": str(len(BODY)),
        "Accept-Encoding": "gzip",
        "X_Trace_Id": "2",
    }

    assert verify("POST", target_of(URL), sent, BODY) == KEY


def test_it_looks_headers_up_whatever_their_case() -> None:
    headers = {name.lower(): value for name, value in signed_post().items()}

    assert verify("POST", target_of(URL), headers, BODY) == KEY
    assert verify("POST", target_of(URL), CIMultiDictProxy(CIMultiDict(signed_post())), BODY) == KEY


def test_it_does_not_sign_headers_with_an_underscore() -> None:
    headers = sign(
        "GET", URL, {"X_Trace_Id": "1", "X-Tenant": "acme", "Content-Type": "text/plain"}
    )

    assert parse_authorization(headers["Authorization"]).signed_headers == (
        "content-type",
        "host",
        "x-sdk-date",
        "x-tenant",
    )
    assert "x_trace_id" not in canonical_request("GET", "/", "", headers)


def test_it_accepts_an_unsigned_payload() -> None:
    headers = sign("PUT", URL, {"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}, BODY)

    assert canonical_request("PUT", "/", "", headers).endswith("\nUNSIGNED-PAYLOAD")
    assert verify("PUT", target_of(URL), headers, b"any other body") == KEY
    assert "UNSIGNED-PAYLOAD is not accepted here" in reject(
        "PUT", target_of(URL), headers, BODY, allow_unsigned_payload=False
    )


def test_it_checks_a_declared_content_hash_against_the_body() -> None:
    declared = hashlib.sha256(BODY).hexdigest()
    headers = sign("PUT", URL, {"X-Sdk-Content-Sha256": declared}, b"not used by the signer")

    assert verify("PUT", target_of(URL), headers, BODY) == KEY
    assert "does not match the SHA-256 of the body" in reject(
        "PUT", target_of(URL), headers, BODY + b"!"
    )
    garbage = sign("PUT", URL, {"X-Sdk-Content-Sha256": "STREAMING"}, BODY)
    assert "must be UNSIGNED-PAYLOAD or the hex SHA-256" in reject(
        "PUT", target_of(URL), garbage, BODY
    )


def test_it_rejects_a_content_hash_header_added_after_signing() -> None:
    headers = signed_post() | {"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}

    assert "must include x-sdk-content-sha256" in reject(
        "POST", target_of(URL), headers, b"swapped body"
    )


# -- the rules around the signature ----------------------------------------------------


def hand_signed(signed_headers: list[str], headers: dict[str, str]) -> dict[str, str]:
    """A third-party signer built from the public helpers."""
    canonical = canonical_request("GET", "/v1/x", "", headers, signed_headers)
    sts = string_to_sign(headers["X-Sdk-Date"], canonical)
    signature = hmac.new(SECRET.encode(), sts.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Access={KEY}, SignedHeaders={';'.join(signed_headers)}, Signature={signature}"
    )
    return headers | {"Authorization": authorization}


def test_it_requires_host_to_be_signed_even_when_the_request_has_none() -> None:
    without_host = hand_signed(["x-sdk-date"], {"X-Sdk-Date": "20260501T120000Z"})

    # An HTTP/1.0 request may come without Host: the signature must still name one, or it
    # would be valid against every gateway that knows the app.
    assert "SignedHeaders must include host" in reject("GET", "/v1/x", without_host)
    assert "SignedHeaders must include host" in reject(
        "GET", "/v1/x", without_host | {"Host": "api.example.com"}
    )


def test_it_requires_x_sdk_date_to_be_signed_and_present() -> None:
    unsigned_date = hand_signed(["host"], {"Host": "h", "X-Sdk-Date": "20260501T120000Z"})
    headers = sign("GET", URL)
    del headers["X-Sdk-Date"]

    assert reject("GET", "/v1/x", unsigned_date) == "SignedHeaders must include x-sdk-date"
    assert "X-Sdk-Date header is missing" in reject("GET", target_of(URL), headers)


def test_it_requires_every_signed_header_to_be_present_once() -> None:
    headers = signed_post()
    missing = {name: value for name, value in headers.items() if name != "X-Tenant"}
    twice = CIMultiDict(headers)
    twice.add("X-Tenant", "evil")
    unsigned_twice = CIMultiDict(headers)
    unsigned_twice.add("User-Agent", "a")
    unsigned_twice.add("User-Agent", "b")

    assert "SignedHeaders lists x-tenant but the request has no such header" in reject(
        "POST", target_of(URL), missing, BODY
    )
    assert "signed header x-tenant appears more than once" in reject(
        "POST", target_of(URL), CIMultiDictProxy(twice), BODY
    )
    assert verify("POST", target_of(URL), CIMultiDictProxy(unsigned_twice), BODY) == KEY


def test_it_rejects_a_missing_or_repeated_authorization() -> None:
    headers = signed_post()
    twice = CIMultiDict(headers)
    twice.add("authorization", headers["Authorization"])

    assert "Authorization header is missing" in reject(
        "POST", target_of(URL), {k: v for k, v in headers.items() if k != "Authorization"}, BODY
    )
    assert "appears more than once" in reject("POST", target_of(URL), twice, BODY)


def test_it_rejects_an_unknown_app_key() -> None:
    headers = sign("GET", URL, key="ghost-key", secret="whatever")

    assert reject("GET", target_of(URL), headers) == "unknown app key 'ghost-key'"


MALFORMED = [
    pytest.param("", "Authorization header is empty", id="empty"),
    pytest.param(
        "Bearer eyJhbGciOi.x.y", "Authorization header is not SDK-HMAC-SHA256", id="bearer"
    ),
    pytest.param("AWS4-HMAC-SHA256 Credential=x", "is not SDK-HMAC-SHA256", id="aws"),
    pytest.param("SDK-HMAC-SHA256", "lacks Access, SignedHeaders, Signature", id="no-params"),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host;x-sdk-date",
        "lacks Signature",
        id="no-signature",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, Access=j, SignedHeaders=x-sdk-date, Signature=" + "a" * 64,
        "has Access more than once",
        id="twice",
    ),
    pytest.param("SDK-HMAC-SHA256 Access=k, Foo=1", "unknown parameter 'Foo'", id="unknown"),
    pytest.param(
        "SDK-HMAC-SHA256 Access=, SignedHeaders=x, Signature=y",
        "no value for Access",
        id="empty-value",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access k, SignedHeaders=x", "unknown parameter 'Access k'", id="no-equals"
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k,, SignedHeaders=x", "has an empty parameter", id="double-comma"
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=a b, SignedHeaders=x-sdk-date, Signature=" + "a" * 64,
        "Access must be the app key",
        id="key-with-space",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=Host;x-sdk-date, Signature=" + "a" * 64,
        "SignedHeaders has 'Host', which is not a lower-case header name",
        id="upper",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host;;x-sdk-date, Signature=" + "a" * 64,
        "SignedHeaders has an empty name",
        id="empty-name",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host;host, Signature=" + "a" * 64,
        "names a header more than once",
        id="repeated-name",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=authorization, Signature=" + "a" * 64,
        "must not include authorization",
        id="signs-itself",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host, Signature=abc",
        "Signature must be 64 hex digits",
        id="short-signature",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host, Signature=" + "g" * 64,
        "Signature must be 64 hex digits",
        id="not-hex",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host, Signature=" + "٣" * 64,
        "Signature must be 64 hex digits",
        id="unicode-digits",
    ),
    pytest.param(
        "SDK-HMAC-SHA256 Access=k, SignedHeaders=host, Signature=" + "a" * 64 + ",",
        "has an empty parameter",
        id="trailing-comma",
    ),
]


@pytest.mark.parametrize(("value", "expected"), MALFORMED)
def test_it_rejects_a_malformed_authorization(value: str, expected: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        parse_authorization(value)
    assert expected in str(caught.value)

    headers = sign("GET", URL) | {"Authorization": value}
    assert expected in reject("GET", target_of(URL), headers)


def test_it_does_not_echo_a_long_foreign_credential() -> None:
    token = "Bearer" + "x" * 500

    with pytest.raises(Unauthorized) as caught:
        parse_authorization(token)

    assert "x" * 30 not in str(caught.value)


def test_it_parses_parameters_in_any_order_with_loose_spacing() -> None:
    value = (
        "sdk-hmac-sha256   Signature = " + "AB" * 32 + " ,SignedHeaders=host;x-sdk-date,Access=k1"
    )

    assert parse_authorization(value) == SignedAuthorization(
        key="k1", signed_headers=("host", "x-sdk-date"), signature="ab" * 32
    )


# -- sign_request details ----------------------------------------------------------------


def test_it_returns_the_given_headers_plus_date_host_and_authorization() -> None:
    given = {
        "Content-Type": "application/json",
        "authorization": "Bearer old",
        "x-sdk-date": "20260501T115959Z",
    }

    headers = sign_request(
        "POST", "https://u:p@api.example.com:8443/x", given, "é", key=KEY, secret=SECRET
    )

    assert set(headers) == {"Content-Type", "x-sdk-date", "Host", "Authorization"}
    assert headers["x-sdk-date"] == "20260501T115959Z"
    assert headers["Host"] == "api.example.com:8443"
    assert headers["Authorization"].startswith(f"{ALGORITHM} Access={KEY}, SignedHeaders=")
    assert given["authorization"] == "Bearer old"  # the caller's mapping is left alone
    assert verify("POST", "/x", headers, "é".encode(), now=NOW) == KEY


def test_it_formats_the_date_in_utc_and_treats_a_naive_date_as_utc() -> None:
    paris = datetime(2026, 5, 1, 14, 0, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))

    assert sign("GET", URL, when=paris)["X-Sdk-Date"] == "20260501T140000Z"
    assert sign("GET", URL, when=datetime(2026, 5, 1, 14, 0))["X-Sdk-Date"] == "20260501T140000Z"
    now = datetime.now(UTC)
    assert verify(
        "GET", target_of(URL), sign_request("GET", URL, {}, key=KEY, secret=SECRET), now=now
    )


def test_it_punycodes_an_international_host() -> None:
    assert sign("GET", "https://bücher.example:8080/x")["Host"] == "xn--bcher-kva.example:8080"


@pytest.mark.parametrize(
    ("url", "headers", "key", "field"),
    [
        ("https://api.example.com/x", {"X-A": "1", "x-a": "2"}, KEY, "headers"),
        ("https://api.example.com/x", {"Bad Name": "1"}, KEY, "headers"),
        ("https://api.example.com/x", {}, "has space", "key"),
        ("https://api.example.com/x", {}, "a,b", "key"),
        ("/x", {}, KEY, "url"),
    ],
)
def test_it_refuses_to_sign_what_the_gateway_would_refuse(
    url: str, headers: dict[str, str], key: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        sign_request("GET", url, headers, key=key, secret=SECRET)

    assert caught.value.field == field


def test_it_signs_a_relative_url_when_given_a_host() -> None:
    headers = sign("GET", "/v1/x?a=1", {"Host": "api.example.com"})

    assert verify("GET", "/v1/x?a=1", headers) == KEY


def test_it_lists_missing_signed_headers_in_canonical_request() -> None:
    with pytest.raises(InvalidInput, match="x-tenant must be among the headers"):
        canonical_request("GET", "/", "", {"Host": "h"}, ["host", "x-tenant"])


# -- fuzzing ----------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
HEADER_NAMES = st.one_of(
    st.sampled_from(
        [
            "Host",
            "host",
            "X-Sdk-Date",
            "x-sdk-date",
            "Content-Type",
            "X-Sdk-Content-Sha256",
            "X_Trace",
            "Authorization",
        ]
    ),
    ANY_TEXT,
)
SIGNED_NAMES = st.one_of(
    st.sampled_from(["host", "x-sdk-date", "content-type", "x-sdk-content-sha256", "x_trace"]),
    ANY_TEXT,
)
DATES = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 5, 1, 11, 40), max_value=datetime(2026, 5, 1, 12, 20)
    ).map(lambda moment: moment.strftime("%Y%m%dT%H%M%SZ")),
    st.from_regex(r"\A[0-9]{8}T[0-9]{6}Z\Z"),
    ANY_TEXT,
)
AUTHORIZATIONS = st.one_of(
    ANY_TEXT,
    st.builds(
        "{} Access={}, SignedHeaders={}, Signature={}".format,
        st.sampled_from([ALGORITHM, "sdk-hmac-sha256", "Bearer"]) | ANY_TEXT,
        st.sampled_from([KEY, "ghost"]) | ANY_TEXT,
        st.lists(SIGNED_NAMES, max_size=5).map(";".join),
        st.from_regex(r"\A[0-9a-f]{64}\Z") | ANY_TEXT,
    ),
)
QUERY_INPUTS = st.one_of(ANY_TEXT, st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=5))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=ANY_TEXT,
    raw_path=st.one_of(ANY_TEXT, st.sampled_from(["/", "http://[::1/x", "https://h/x?y=1"])),
    query=QUERY_INPUTS,
    headers=st.dictionaries(HEADER_NAMES, ANY_TEXT, max_size=8),
    authorization=AUTHORIZATIONS,
    date=DATES,
    body=st.binary(max_size=64),
)
def test_it_only_ever_returns_a_key_or_raises_unauthorized(
    method: str,
    raw_path: str,
    query: str | list[tuple[str, str]],
    headers: dict[str, str],
    authorization: str,
    date: str,
    body: bytes,
) -> None:
    request_headers = {"Authorization": authorization, "X-Sdk-Date": date} | headers
    try:
        key = verify(method, raw_path, request_headers, body, query=query)
    except Unauthorized as error:
        message = str(error)
    else:
        assert key == KEY
        message = ""
    assert SECRET not in message


@settings(max_examples=300, deadline=None)
@given(
    method=ANY_TEXT,
    raw_path=ANY_TEXT,
    query=QUERY_INPUTS,
    values=st.dictionaries(
        st.from_regex(r"\A[a-z0-9-]{1,12}\Z").filter(
            lambda n: n not in {"x-sdk-date", "authorization"}
        ),
        ANY_TEXT,
        max_size=6,
    ),
    signature=st.from_regex(r"\A[0-9a-f]{64}\Z"),
    body=st.binary(max_size=64),
)
def test_it_reaches_the_signature_check_for_any_well_formed_authorization(
    method: str,
    raw_path: str,
    query: str | list[tuple[str, str]],
    values: dict[str, str],
    signature: str,
    body: bytes,
) -> None:
    """Arbitrary text (lone surrogates included) in the method, path, query and header values."""
    names = sorted({*values, "x-sdk-date", "host"} - {"x-sdk-content-sha256"})
    headers = {"host": "h"} | values | {
        "x-sdk-date": "20260501T120000Z",
        "authorization": f"{ALGORITHM} Access={KEY}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}",
    }
    headers.pop("x-sdk-content-sha256", None)

    with pytest.raises(Unauthorized) as caught:
        verify(method, raw_path, headers, body, query=query)

    message = str(caught.value)
    assert message.startswith(("signature does not match", "request cannot be put in canonical"))


PATH_TEXT = st.text(
    st.characters(
        exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn"),
        exclude_characters="?#%\\",
    ),
    max_size=20,
).filter(lambda segment: segment not in {".", ".."})
QUERY_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn")), max_size=12
)


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(PATH_TEXT, max_size=4),
    pairs=st.lists(st.tuples(QUERY_TEXT.filter(bool), QUERY_TEXT), max_size=4),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    body=st.binary(max_size=64),
)
def test_it_verifies_any_signed_request_however_the_client_library_encodes_it(
    segments: list[str], pairs: list[tuple[str, str]], method: str, body: bytes
) -> None:
    path = "/" + "/".join(segment.replace("/", "") for segment in segments)
    query = str(httpx.QueryParams(tuple(pairs)))  # form-encoded, as params= would send it
    url = f"https://api.example.com{path}" + (f"?{query}" if query else "")
    headers = sign(method, url, {"X-Tenant": "acme"}, body)

    for target in {target_of(url), aiohttp_target(url), httpx_target(url)}:
        assert verify(method, target, headers, body) == KEY, target
    assert verify(method, path, headers, body, query=pairs) == KEY


@settings(max_examples=300, deadline=None)
@given(AUTHORIZATIONS)
def test_it_parses_any_authorization_or_raises_unauthorized(value: str) -> None:
    try:
        parsed = parse_authorization(value)
    except Unauthorized:
        return
    assert parsed.signed_headers
    assert len(parsed.signature) == 64
