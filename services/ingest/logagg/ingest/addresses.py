"""Who sent a request: the peer address, or the client a trusted proxy forwarded for."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from logagg.ingest.settings import IpNetwork


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[IpNetwork]
) -> bool:
    return any(address in network for network in proxies)


def client_address(
    remote_addr: str | None, forwarded_for: str | None, trusted_proxies: Sequence[IpNetwork]
) -> str:
    """The sender's address.

    ``X-Forwarded-For`` is read only when the peer is a trusted proxy, from the right
    (the hop nearest to us) leftwards, stopping at the first address that is not a
    trusted proxy: everything left of it could have been written by the client itself.
    """
    peer = _parse(remote_addr or "")
    if peer is None:
        return remote_addr or "unknown"
    if not forwarded_for or not _trusted(peer, trusted_proxies):
        return str(peer)
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        address = _parse(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, trusted_proxies):
            break
    return str(client)
