"""IP truncation and GPC parsing."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.consent.ledger.evidence import gpc_signal, truncate_ip


@given(st.ip_addresses(v=4))
def test_ipv4_keeps_only_the_slash_24(address: ipaddress.IPv4Address) -> None:
    network = truncate_ip(str(address))
    assert network is not None
    net = ipaddress.ip_network(network)
    assert net.prefixlen == 24
    assert address in net
    assert network.endswith(".0/24")


@given(st.ip_addresses(v=6))
def test_ipv6_keeps_only_the_slash_48(address: ipaddress.IPv6Address) -> None:
    network = truncate_ip(str(address))
    assert network is not None
    net = ipaddress.ip_network(network)
    if address.ipv4_mapped is not None:
        assert net.prefixlen == 24
        assert address.ipv4_mapped in net
    else:
        assert net.prefixlen == 48
        assert address in net
        assert int(net.network_address) & ((1 << 80) - 1) == 0


@given(st.text(max_size=60))
def test_anything_else_is_not_stored(value: str) -> None:
    result = truncate_ip(value)
    if result is not None:
        ipaddress.ip_network(result)  # a network, never the raw input


@pytest.mark.parametrize(("given_value", "expected"), [
    ("203.0.113.77", "203.0.113.0/24"), ("::ffff:198.51.100.9", "198.51.100.0/24"),
    ("2001:db8:1234:5678::1", "2001:db8:1234::/48"), ("testclient", None), ("", None)])
def test_examples(given_value: str, expected: str | None) -> None:
    assert truncate_ip(given_value) == expected


def test_only_exactly_one_is_the_gpc_signal() -> None:
    assert gpc_signal("1")
    for value in (None, "", "0", " 1", "1 ", "true", "01"):
        assert not gpc_signal(value)
