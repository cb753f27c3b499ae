"""The sender's address, through trusted proxies only."""

from __future__ import annotations

import ipaddress

from logagg.ingest.addresses import client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


def test_untrusted_peer_forwarded_for_is_ignored() -> None:
    assert client_address("203.0.113.7", "1.2.3.4", PROXIES) == "203.0.113.7"


def test_trusted_proxy_gives_the_nearest_untrusted_hop() -> None:
    # The client wrote "6.6.6.6" itself; the proxy appended the real peer 198.51.100.9.
    forwarded = "6.6.6.6, 198.51.100.9, 10.1.1.1"
    assert client_address("10.0.0.2", forwarded, PROXIES) == "198.51.100.9"


def test_garbage_in_forwarded_for_stops_the_walk() -> None:
    assert client_address("10.0.0.2", "198.51.100.9, not-an-ip", PROXIES) == "10.0.0.2"


def test_no_proxies_configured() -> None:
    assert client_address("10.0.0.2", "198.51.100.9", ()) == "10.0.0.2"


def test_ipv6_peer() -> None:
    assert client_address("::1", "2001:db8::5", PROXIES) == "2001:db8::5"
