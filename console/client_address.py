"""Whom a request came from: the client's address, for sign-in throttling and the audit trail.

The address is the connection's own. X-Forwarded-For is believed only when the connection comes from a
reverse proxy named in CONSOLE_TRUSTED_PROXIES, and then read from the right: the first address that is
not one of our proxies is the client (anything left of it was written by the client and proves nothing).
uvicorn's own proxy-header handling is switched off where the console is served, so this is the only
place that reads the header.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from console.settings import ConsoleSettings

UNKNOWN = "unknown"
IPV6_THROTTLE_PREFIX = 64  # one IPv6 customer usually holds a whole /64: count it as one address


def client_address(request: Request, settings: ConsoleSettings) -> str:
    peer = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer[:64] or UNKNOWN  # not an IP address (a Unix socket, a test client): as it is
    trusted = settings.trusted_proxies
    if not trusted or not _is_trusted(address, trusted):
        return str(address)
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    for hop in reversed(hops):
        try:
            forwarded = ipaddress.ip_address(hop)
        except ValueError:
            break  # garbled: trust nothing further left
        if not _is_trusted(forwarded, trusted):
            return str(forwarded)
        address = forwarded
    return str(address)


def throttled_address(address: str) -> str:
    """What the sign-in throttle counts for an address: itself, or for IPv6 its /64 network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_THROTTLE_PREFIX}", strict=False))
    return str(parsed)


def _is_trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
) -> bool:
    return any(address in network for network in trusted)
