"""The notices domain: the published notice's pages and its posture check."""

from __future__ import annotations

from ehrlich.notices import posture
from ehrlich.notices.routes import router
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_router(router)
    registry.add_check(posture.published_notice)
