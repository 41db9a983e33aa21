"""Every domain's job registrations, applied once per process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ehrlich.auth import tasks as auth_tasks
from ehrlich.backup import tasks as backup_tasks
from ehrlich.consent import tasks as consent_tasks
from ehrlich.mail import tasks as mail_tasks

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance

Registrar = Callable[["Instance"], None]


def registrars() -> list[Registrar]:
    """Each domain's `tasks.register(instance)`; a new domain adds one line here."""
    return [
        mail_tasks.register,
        backup_tasks.register,
        consent_tasks.register,
        auth_tasks.register,
    ]


def register_tasks(instance: Instance) -> None:
    for register in registrars():
        register(instance)
