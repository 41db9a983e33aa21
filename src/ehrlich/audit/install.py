"""The audit domain: the audit log's API."""

from __future__ import annotations

from ehrlich.audit.routes import router
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_router(router)
