"""Which addresses the server may connect to on a client's behalf (``image_url``, ``webhook_url``).

Public unicast addresses only, unless an operator (or a test) names networks to allow as
well. IPv6 forms that carry an IPv4 address inside (IPv4-mapped, NAT64, 6to4, Teredo) are
judged by that address too, so ``[::ffff:127.0.0.1]`` is loopback, as it would be on the wire.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The address and every IPv4 address it carries."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if address in _NAT64:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address (no private, loopback, link-local, multicast,
    reserved, shared or unspecified address, also when wrapped in an IPv6 form)."""
    for candidate in _embedded(address):
        if (
            not candidate.is_global
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_private
            or candidate.is_unspecified
        ):
            return False
    return True


@dataclass(frozen=True)
class AddressPolicy:
    """``allows(address)``: public addresses, plus any in ``extra_networks``."""

    extra_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def allowing(cls, networks: Iterable[str]) -> AddressPolicy:
        """A policy that also allows ``networks`` (CIDRs such as ``127.0.0.1/32``)."""
        return cls(tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()))

    def allows(self, address: str | IPAddress) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
        except ValueError:
            return False
        if any(candidate in network for candidate in _embedded(ip) for network in self.extra_networks
               if candidate.version == network.version):
            return True
        return is_public(ip)
