"""Imports run against an instance with mail set up and a published notice (the consent
fixtures), so evidence rows and re-permission mails can be checked. The instance is a
copy of the run's migrated template, sending its mail into `sent`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.settings import Settings
from tests.consent.conftest import client, outbox, published, sent, settings
from tests.instances import InstanceTemplates

__all__ = ["client", "outbox", "published", "sent", "settings"]


@pytest.fixture
def instance(settings: Settings, instance_templates: InstanceTemplates,
             sent: MemoryMailSender) -> Iterator[Instance]:
    instance_templates.install(settings)
    opened = replace(open_instance(settings), mail=sent)
    yield opened
    opened.close()
