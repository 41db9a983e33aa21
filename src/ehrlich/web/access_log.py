"""The access log, with nothing personal in it (GDPR Art. 5(1)(c), data minimisation).

uvicorn's access log would write the full client address, the query string
(`?email=`, `?phone=`) and link tokens in paths (`/preferences/<token>`), and a
log outlives an erasure. Each access line keeps instead:

- the client's network, truncated as consent evidence is (IPv4 /24, IPv6 /48);
- the path without its query string;
- `<token>` in place of a link token, and `<redacted>` for any path segment
  that holds an address (`@`).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from ehrlich.consent.ledger.evidence import truncate_ip

TOKEN_MARKER = "<token>"  # noqa: S105 - a placeholder shown in logs, not a secret
REDACTED = "<redacted>"
# Routes whose next path segment is a signed link token.
TOKEN_ROUTES = frozenset({"confirm", "cancel", "unsubscribe", "preferences"})


def loggable_path(path: str) -> str:
    """The path as the access log may show it."""
    segments = path.split("?", 1)[0].split("#", 1)[0].split("/")
    shown: list[str] = []
    for index, segment in enumerate(segments):
        if index > 0 and segments[index - 1] in TOKEN_ROUTES and segment:
            shown.append(TOKEN_MARKER)
        elif "@" in segment or "%40" in segment.lower():
            shown.append(REDACTED)
        else:
            shown.append(segment)
    return "/".join(shown)


def loggable_client(client: str) -> str:
    """uvicorn's `host:port` as a truncated network; '-' when it is no IP address."""
    return truncate_ip(client.rsplit(":", 1)[0]) or truncate_ip(client) or "-"


class AccessLogFilter(logging.Filter):
    """Rewrites uvicorn's access records: (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (loggable_client(str(client)), method, loggable_path(str(path)),
                           version, status)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access lines filtered."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["private"] = {"()": AccessLogFilter}
    config["handlers"]["access"]["filters"] = ["private"]
    return config
