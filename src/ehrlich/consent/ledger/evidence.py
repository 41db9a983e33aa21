"""Evidence kept with a consent event, reduced to what proof needs.

IP addresses are truncated before they are stored (IPv4 to /24, IPv6 to /48);
user agents and link tokens are kept only as SHA-256; `Sec-GPC` is kept as
sent, and only the exact value "1" counts as the signal.
"""

from __future__ import annotations

import hashlib
import ipaddress

MAX_GPC_CHARS = 16


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def truncate_ip(value: str | None) -> str | None:
    """The network a client address belongs to, or None when it is no IP address."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def gpc_signal(value: str | None) -> bool:
    """Global Privacy Control: only `Sec-GPC: 1`, exactly, is the signal."""
    return value == "1"


def stored_gpc(value: str | None) -> str | None:
    return None if value is None else value[:MAX_GPC_CHARS]
