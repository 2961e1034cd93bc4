"""Whom a request came from (console/client_address.py): the connection's address, or X-Forwarded-For read
from the right only through a proxy named in CONSOLE_TRUSTED_PROXIES; and what the throttle counts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from console.client_address import client_address, throttled_address
from console.settings import ConsoleSettings
from tests.console.conftest import make_settings


def _request(peer: str | None, forwarded: list[str]) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": None if peer is None else (peer, 443), "headers": headers})


BEHIND_A_PROXY = make_settings("sqlite://", console_trusted_proxies="127.0.0.1, 10.0.0.0/8, ::1")
DIRECT = make_settings("sqlite://")


@pytest.mark.parametrize(
    ("peer", "forwarded", "settings", "expected"),
    [
        ("203.0.113.9", ["6.6.6.6"], DIRECT, "203.0.113.9"),  # no proxy configured: the header is ignored
        ("127.0.0.1", ["6.6.6.6"], DIRECT, "127.0.0.1"),
        ("203.0.113.9", ["6.6.6.6"], BEHIND_A_PROXY, "203.0.113.9"),  # not from our proxy
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7"], BEHIND_A_PROXY, "198.51.100.7"),  # rightmost not ours
        ("127.0.0.1", ["6.6.6.6", "198.51.100.7, 10.1.2.3"], BEHIND_A_PROXY, "198.51.100.7"),  # two proxies
        ("127.0.0.1", ["198.51.100.7, garbage, 10.1.2.3"], BEHIND_A_PROXY, "10.1.2.3"),  # garbled: stop
        ("127.0.0.1", [], BEHIND_A_PROXY, "127.0.0.1"),
        ("::1", ["2001:db8::5"], BEHIND_A_PROXY, "2001:db8::5"),
        ("testclient", [], BEHIND_A_PROXY, "testclient"),  # not an IP address: as it is
        (None, [], DIRECT, "unknown"),
    ],
)
def test_the_client_address(
    peer: str | None, forwarded: list[str], settings: ConsoleSettings, expected: str
) -> None:
    assert client_address(_request(peer, forwarded), settings) == expected


def test_the_throttle_counts_an_ipv6_customer_as_one_address() -> None:
    assert throttled_address("2001:db8:1:2:aaaa::1") == throttled_address("2001:db8:1:2:bbbb::9")
    assert throttled_address("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert throttled_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert throttled_address("192.0.2.1") == "192.0.2.1"


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    with pytest.raises(ValidationError, match="CONSOLE_TRUSTED_PROXIES"):
        make_settings("sqlite://", console_trusted_proxies="127.0.0.1, the proxy")
