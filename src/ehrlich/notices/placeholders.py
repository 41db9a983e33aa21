"""Structural rules against a notice that still speaks for someone else.

`ehrlich init` writes an example notice for a fictitious bike shop. Published
unchanged, it would tell people that another business keeps their data and
give them a privacy contact on a reserved domain (RFC 2606, RFC 6761) that
receives no mail. Both are warnings, not errors: the linter cannot know a
real business's name, and tests and demonstrations publish the example.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from urllib.parse import urlsplit

import yaml

from ehrlich.notices.example import example_notice_text
from ehrlich.notices.schemas import Notice, Path

RESERVED_NAMES = frozenset({"example", "test", "invalid", "localhost",
                            "example.com", "example.net", "example.org"})
"""Names that never reach anyone: top-level names reserved by RFC 2606 and RFC 6761,
and the three second-level example domains."""


@cache
def example_controller_name() -> str:
    return str(yaml.safe_load(example_notice_text())["controller"]["name"])


def reserved_domain(contact: str) -> str | None:
    """The reserved domain of an email address or URL, or None when it may reach someone."""
    value = contact.strip()
    if "://" in value:
        host = urlsplit(value).hostname or ""
    else:
        host = value.rpartition("@")[2] if "@" in value else value
    host = host.strip().rstrip(".").lower()
    labels = host.split(".")
    for size in (2, 1):
        tail = ".".join(labels[-size:])
        if len(labels) >= size and tail in RESERVED_NAMES:
            return host
    return None


def placeholder_findings(notice: Notice) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """(where, rule id, message parameters) for each value left from the example."""
    controller = notice.controller
    if controller.name.strip() == example_controller_name():
        yield ("controller", "name"), "example-controller", {"name": controller.name}
    contacts: list[tuple[Path, str]] = [(("controller", "contact"), controller.contact)]
    if controller.dpo is not None:
        contacts.append((("controller", "dpo", "contact"), controller.dpo.contact))
    for path, contact in contacts:
        domain = reserved_domain(contact)
        if domain is not None:
            yield path, "unreachable-contact", {"contact": contact, "domain": domain}
