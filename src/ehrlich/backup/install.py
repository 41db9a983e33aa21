"""The backup domain: the scheduled backup and its posture checks."""

from __future__ import annotations

from ehrlich.backup import posture, tasks
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_jobs(tasks.register)
    registry.add_check(posture.recent_verified_backup)
    registry.add_check(posture.recovery_key_offline)
    registry.add_check(posture.two_destinations)
    registry.add_check(posture.signed_manifests)
