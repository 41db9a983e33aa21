"""The sharing domain's jobs: signed webhook deliveries to recipients (`sharing.webhooks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ehrlich.sharing import webhooks
from ehrlich.sharing.webhooks import Webhooks

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance


def register(instance: Instance) -> None:
    webhooks.register(instance.jobs, instance.service(Webhooks))
