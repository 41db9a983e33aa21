"""The backup domain: the scheduled backup, the console's Backups page and its two
posture checks."""

from __future__ import annotations

from ehrlich.admin.nav import ADMINISTRATION, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.backup import posture, tasks
from ehrlich.i18n import N_
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_console_page("ehrlich.backup.console_routes:router", NavEntry(
        "/admin/backups", N_("Backups"), Permission.POSTURE_READ, ADMINISTRATION))
    registry.add_jobs(tasks.register)
    registry.add_check(posture.recent_verified_backup)
    registry.add_check(posture.recovery_key_offline)
    registry.add_check(posture.two_destinations)
    registry.add_check(posture.signed_manifests)
