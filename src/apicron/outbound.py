"""Where the gateway may connect: the outbound policy (pure; the gateway applies it to every
connection, see :mod:`apicron.gateway.addresses`).

:class:`OutboundPolicy` holds two CIDR lists. The deny list is the built-in one
(:data:`BUILT_IN_DENY`: link-local, the cloud metadata addresses) plus
``APICRON_OUTBOUND_DENY``; the allow list is ``APICRON_OUTBOUND_ALLOW``. For an address, the
most specific network that contains it decides (longest prefix): an allow entry more
specific than every deny entry containing the address lets it through; otherwise any
containing deny entry refuses it (deny wins a tie); an address no entry contains is allowed.
So ``DENY=10.0.0.0/8`` with ``ALLOW=10.1.2.0/24`` refuses 10.9.9.9 and allows 10.1.2.3, and
``DENY=0.0.0.0/0,::/0`` with ``ALLOW=…`` allows only what is listed.

Every form an address can take is judged, read with :mod:`ipaddress` (never by spelling):
the address itself and each IPv4 address it embeds (IPv4-mapped ``::ffff:a.b.c.d``,
IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``, 6to4
``2002::/16``, Teredo server and client); one refused form refuses the address.

The gateway checks where connections are made, so a host name that resolves (or is made
to resolve later: DNS rebinding) to a refused address is caught: its resolver drops refused
addresses from each DNS answer, and :meth:`OutboundPolicy.socket_factory`, given to
aiohttp's connector, checks the very address each socket is about to connect to, literal
addresses included. aiohttp reports :class:`ForbiddenAddress` as a ``ClientConnectorError``
carrying it as ``os_error``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# (family, type, proto, canonname, sockaddr), as socket.getaddrinfo gives them.
AddrInfo = tuple[Any, Any, int, str, tuple[Any, ...]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BUILT_IN_DENY = (
    "169.254.0.0/16",  # IPv4 link-local: the metadata service of AWS, GCP, Azure, OpenStack
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
)

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """Comma-separated CIDR networks (a bare address is a /32 or /128); raises
    ``ValueError`` naming the entry that is not one."""
    return tuple(
        ipaddress.ip_network(entry.strip(), strict=True)
        for entry in text.split(",") if entry.strip()
    )


def _address(text: str) -> IPAddress | None:
    bare = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        try:
            # What a resolver accepts as IPv4 without Python calling it an address:
            # 0xa9.254.169.254, 2852039166, octal parts.
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None


def _forms(address: IPAddress) -> Iterator[IPAddress]:
    """The address and every IPv4 address embedded in it."""
    yield address
    if isinstance(address, ipaddress.IPv4Address):
        return
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
    if address.sixtofour is not None:
        yield address.sixtofour
    if address.teredo is not None:
        yield from address.teredo
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: and ::1
        yield low
    if any(address in prefix for prefix in _NAT64):
        yield low


class ForbiddenAddress(OSError):
    """A backend host that is, or resolves only to, refused addresses."""

    def __init__(self, host: str, addresses: list[str]):
        self.host = host
        self.addresses = addresses
        shown = ", ".join(addresses[:3])
        resolves = "" if addresses == [host] else f" resolves to {shown}, which"
        super().__init__(
            f"backend host {host}{resolves} is refused by the outbound policy "
            "(link-local / cloud metadata, or APICRON_OUTBOUND_DENY)"
        )


@dataclass(frozen=True)
class OutboundPolicy:
    """Allow and deny CIDR lists; see the module's rules. Immutable, shareable."""

    allow: tuple[IPNetwork, ...] = ()
    deny: tuple[IPNetwork, ...] = field(default_factory=lambda: parse_networks(
        ",".join(BUILT_IN_DENY)
    ))

    @classmethod
    def default(cls) -> OutboundPolicy:
        """The built-in deny list alone."""
        return cls()

    @classmethod
    def from_lists(cls, *, allow: Iterable[str], deny: Iterable[str]) -> OutboundPolicy:
        """``deny`` is added to the built-in list; entries are CIDR text."""
        return cls(
            allow=parse_networks(",".join(allow)),
            deny=parse_networks(",".join((*BUILT_IN_DENY, *deny))),
        )

    def _refuses(self, address: IPAddress) -> bool:
        def longest(networks: tuple[IPNetwork, ...]) -> int:
            return max(
                (n.prefixlen for n in networks if n.version == address.version and address in n),
                default=-1,
            )

        denied = longest(self.deny)
        return denied >= 0 and longest(self.allow) <= denied

    def refused(self, host: str) -> str | None:
        """The refused form of ``host`` (an IP address as text, brackets and an IPv6 zone
        allowed), or ``None`` when it may be connected to or is not an address at all."""
        address = _address(host)
        if address is None:
            return None
        for form in _forms(address):
            if self._refuses(form):
                return str(form)
        return None

    def check(self, host: str) -> None:
        """Raise :class:`ForbiddenAddress` for a literal address the policy refuses."""
        if self.refused(host) is not None:
            bare = host.strip("[]")
            raise ForbiddenAddress(bare, [bare])

    def socket_factory(self, addr_info: AddrInfo) -> socket.socket:
        """aiohttp's ``socket_factory``: the last check, on the address about to be
        connected to, before any socket exists."""
        family, type_, proto, _, address = addr_info
        self.check(str(address[0]))
        return socket.socket(family=family, type=type_, proto=proto)


def is_forbidden(address: str) -> bool:
    """Whether the built-in policy refuses an IP address (text, IPv6 zone allowed)."""
    return OutboundPolicy.default().refused(address) is not None
