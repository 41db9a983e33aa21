"""What an access line may show of a path and a client address."""

from __future__ import annotations

import pytest

from ehrlich.web.access_log import loggable_client, loggable_path


@pytest.mark.parametrize(("path", "shown"), [
    ("/api/v1/subjects?email=ada%40example.org", "/api/v1/subjects"),
    ("/api/v1/subjects?phone=%2B4915123456789", "/api/v1/subjects"),
    ("/preferences/AQGiK_F2f3EOvREs", "/preferences/<token>"),
    ("/preferences/AQGiK_F2f3EOvREs/withdraw-all", "/preferences/<token>/withdraw-all"),
    ("/confirm/abc.def", "/confirm/<token>"),
    ("/unsubscribe/abc?x=1", "/unsubscribe/<token>"),
    ("/cancel/abc", "/cancel/<token>"),
    ("/lookup/ada%40example.org", "/lookup/<redacted>"),
    ("/signup", "/signup"),
    ("/preferences/", "/preferences/"),
])
def test_paths_lose_queries_tokens_and_addresses(path: str, shown: str) -> None:
    assert loggable_path(path) == shown


@pytest.mark.parametrize(("client", "shown"), [
    ("203.0.113.77:51234", "203.0.113.0/24"),
    ("2001:db8:abcd:12::7:51234", "2001:db8:abcd::/48"),
    ("::ffff:198.51.100.9:443", "198.51.100.0/24"),
    ("unix-socket", "-"),
])
def test_client_addresses_are_truncated_as_consent_evidence_is(client: str, shown: str) -> None:
    assert loggable_client(client) == shown
