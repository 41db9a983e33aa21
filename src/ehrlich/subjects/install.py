"""The subjects domain: the people API."""

from __future__ import annotations

from ehrlich.registry import Registry
from ehrlich.subjects.routes import router


def install(registry: Registry) -> None:
    registry.add_router(router)
