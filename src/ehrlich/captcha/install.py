"""The CAPTCHA domain: the challenge endpoint the forms' widget fetches."""

from __future__ import annotations

from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_router("ehrlich.captcha.routes:router")
