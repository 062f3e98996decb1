"""Where the gateway may connect: APICRON_OUTBOUND_DENY / APICRON_OUTBOUND_ALLOW (CIDR
lists) over a built-in deny list of link-local and cloud-metadata networks, applied to the
addresses actually connected to (names, literal addresses and every IPv6 form that embeds
an IPv4 address). A test may save a backend URL that points off loopback to prove it is
refused, but never lets a call reach one: the policy is asserted to refuse it first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from apicron.domain.errors import ConfigurationError
from apicron.gateway.addresses import OutboundPolicy
from apicron.server import Runtime, open_runtime
from apicron.settings import load_settings
from tests.conftest import World
from tests.servers import ApicronProcess
from tests.test_gateway import Backend, error, gateway, hw, orders, path_of, setup
from tests.test_gateway_pipeline import FakeDns, build, listening

DEFAULT = OutboundPolicy.default()


class OtherLoopback(Backend):
    """The recording backend on 127.0.0.2 (loopback too, so calling it is harmless)."""

    async def _start(self) -> None:
        server = web.Server(self._handle, access_log=None, **self.SERVER_OPTIONS)
        self._runner = web.ServerRunner(server, shutdown_timeout=self.SHUTDOWN_TIMEOUT)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.2", 0).start()
        self.port = int(self._runner.addresses[0][1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.2:{self.port}{path}"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        env={"APICRON_DATA_DIR": str(tmp_path), "APICRON_ADMIN_TOKEN": "t" * 32}
    )
    opened = open_runtime(settings, announce_token=False)
    yield opened
    opened.ctx.store.close()


@pytest.fixture(scope="module")
def backends() -> Iterator[tuple[Backend, Backend]]:
    first, second = Backend().start(), OtherLoopback().start()
    yield first, second
    second.stop()
    first.stop()


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254", "169.254.0.1", "100.100.100.200", "fe80::1", "fe80::1%eth0",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",  # IPv4-mapped
        "::169.254.169.254",  # IPv4-compatible
        "64:ff9b::a9fe:a9fe",  # NAT64, well-known prefix
        "64:ff9b:1::a9fe:a9fe",  # NAT64, local-use prefix
        "2002:a9fe:a9fe::1",  # 6to4
        "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo, client 169.254.169.254 obfuscated
        "::ffff:100.100.100.200", "64:ff9b::6464:64c8", "2002:6464:64c8::",
    ],
)
def test_metadata_and_link_local_addresses_are_refused_in_every_form(address: str) -> None:
    assert DEFAULT.refused(address) is not None


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "100.100.100.201",
                "2001:db8::1", "::ffff:127.0.0.1", "fd00:ec2::253", "not-an-address"],
)
def test_everything_else_is_allowed_by_default(address: str) -> None:
    assert DEFAULT.refused(address) is None


def test_the_more_specific_entry_wins_and_deny_wins_a_tie() -> None:
    policy = OutboundPolicy.from_lists(
        allow=["10.1.2.0/24", "10.0.0.0/8", "169.254.169.0/24"],
        deny=["10.0.0.0/8", "10.1.2.3/32", "0.0.0.0/0"],
    )
    assert policy.refused("10.1.2.4") is None  # allow /24 beats deny /8
    assert policy.refused("10.1.2.3") is not None  # deny /32 beats allow /24
    assert policy.refused("10.9.9.9") is not None  # allow /8 ties deny /8: deny
    assert policy.refused("169.254.169.254") is None  # allow /24 beats built-in deny /16
    assert policy.refused("169.254.1.1") is not None  # the built-in deny still applies
    assert policy.refused("8.8.8.8") is not None  # deny 0.0.0.0/0
    assert policy.refused("::ffff:8.8.8.8") is not None  # the IPv4 inside counts
    assert policy.refused("2001:db8::1") is None  # nothing says anything about it


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("10.0.0.0/33", "APICRON_OUTBOUND_DENY must be comma-separated CIDR networks"),
        ("10.0.0.1/8", "has host bits set"),
        ("metadata.internal", "APICRON_OUTBOUND_DENY must be"),
    ],
)
def test_a_bad_list_is_refused_naming_the_setting(value: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words):
        load_settings({"APICRON_OUTBOUND_DENY": value})
    with pytest.raises(ConfigurationError, match="APICRON_OUTBOUND_ALLOW"):
        load_settings({"APICRON_OUTBOUND_ALLOW": "x"})


def test_the_settings_become_the_policy(tmp_path: Path) -> None:
    settings = load_settings({"APICRON_DATA_DIR": str(tmp_path),
                              "APICRON_OUTBOUND_DENY": " 10.0.0.0/8 , fc00::/7",
                              "APICRON_OUTBOUND_ALLOW": "10.1.0.0/16"})
    policy = settings.outbound_policy
    assert policy.refused("10.2.0.1") is not None and policy.refused("fd12::1") is not None
    assert policy.refused("10.1.0.1") is None
    assert policy.refused("169.254.169.254") is not None  # the built-in list stays


def test_the_gateway_connects_only_where_the_lists_allow(
    tmp_path: Path, backends: tuple[Backend, Backend]
) -> None:
    allowed, denied = backends
    env = {"APICRON_OUTBOUND_DENY": "127.0.0.0/8", "APICRON_OUTBOUND_ALLOW": "127.0.0.1/32"}
    server = ApicronProcess(tmp_path / "data", env).start()
    try:
        with server.client() as client, gateway(server) as gw:
            world = World(client)
            ok_marker, refused_marker = allowed.path(), denied.path()
            app, ok_api = setup(world, backend_url=allowed.url(ok_marker))
            group = world.group(app)
            refused_api = world.api(group, path=orders(), backend_url=denied.url(refused_marker))
            mapped_api = world.api(group, path=orders(), backend_url=(
                f"http://[::ffff:127.0.0.2]:{denied.port}{refused_marker}"))
            assert gw.post(path_of(ok_api, id="1"), headers=hw(app)).status_code == 200
            for api in (refused_api, mapped_api):
                r = gw.post(path_of(api, id="1"), headers=hw(app))
                message = error(r, 502, "BACKEND_FORBIDDEN")
                assert "127.0.0.2" not in message and "APICRON_OUTBOUND" in message
            assert len(allowed.to(ok_marker)) == 1
            assert not denied.to(refused_marker)
    finally:
        server.stop()


@pytest.mark.parametrize(
    "host",
    ["[::a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", "[2002:a9fe:a9fe::1]", "100.100.100.200"],
)
def test_a_saved_backend_at_a_metadata_address_in_another_form_is_never_called(
    server: ApicronProcess, world: World, host: str
) -> None:
    # The guard against this test ever calling off loopback: the policy refuses it.
    assert DEFAULT.refused(host.strip("[]")) is not None
    app, api = setup(world, backend_url=f"http://{host}:9/latest/meta-data")
    with gateway(server) as gw:
        error(gw.post(path_of(api, id="1"), headers=hw(app)), 502, "BACKEND_FORBIDDEN")


def test_a_name_is_checked_each_time_it_is_resolved(
    runtime: Runtime, backends: tuple[Backend, Backend]
) -> None:
    """DNS rebinding: a name that resolved to an allowed address may resolve to a refused
    one next time; the check is made on the answer aiohttp connects to, every time."""
    allowed, denied = backends
    ctx = runtime.ctx
    dns = FakeDns({"rebind.test": ["127.0.0.1"]})
    marker = allowed.path()
    # One name, the port of each backend (a kept-alive connection is not resolved again).
    build(ctx, "first", f"http://rebind.test:{allowed.port}{marker}/{{id}}", auth_type="NONE")
    build(ctx, "later", f"http://rebind.test:{denied.port}{marker}/{{id}}", auth_type="NONE")
    policy = OutboundPolicy.from_lists(allow=[], deny=["127.0.0.2/32"])

    async def main() -> None:
        async with listening(ctx, resolver=dns, outbound=policy) as (gateway_, client):
            async with client.post("/first/1") as r:
                assert r.status == 200
            dns.table["rebind.test"] = ["127.0.0.2"]
            gateway_.session.connector.clear_dns_cache()  # type: ignore[union-attr]
            async with client.post("/later/1") as r:
                assert r.status == 502
                assert (await r.json())["error_code"] == "BACKEND_FORBIDDEN"
            dns.table["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
            gateway_.session.connector.clear_dns_cache()  # type: ignore[union-attr]
            async with client.post("/later/2") as r:  # only 127.0.0.1 is tried: refused
                assert r.status == 502
                assert (await r.json())["error_code"] == "BACKEND_UNREACHABLE"

    asyncio.run(main())
    assert len(allowed.to(marker)) == 1
    assert not denied.to(marker)
