"""The CAPTCHA domain: the challenge endpoint the forms' widget fetches."""

from __future__ import annotations

from ehrlich.captcha.routes import router
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_router(router)
