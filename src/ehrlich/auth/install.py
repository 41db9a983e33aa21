"""The staff-access domain: session clean-up and the second-factor and password checks."""

from __future__ import annotations

from ehrlich.auth import posture, tasks
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_jobs(tasks.register)
    registry.add_check(posture.second_factor)
    registry.add_check(posture.initial_passwords)
