"""Imports run against an instance with mail set up and a published notice (the consent
fixtures), so evidence rows and re-permission mails can be checked."""

from tests.consent.conftest import client, outbox, published, settings

__all__ = ["client", "outbox", "published", "settings"]
