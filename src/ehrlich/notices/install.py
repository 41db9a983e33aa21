"""The notices domain: the published notice's pages, the branding's stylesheet and logo,
the console's Notice pages, and the posture check."""

from __future__ import annotations

from ehrlich.admin.nav import PRIVACY, NavEntry
from ehrlich.auth.roles import Permission
from ehrlich.i18n import N_
from ehrlich.notices import posture
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    registry.add_router("ehrlich.notices.routes:router")
    registry.add_console_page("ehrlich.notices.console_routes:router", NavEntry(
        "/admin/notice", N_("Notice"), Permission.NOTICE_READ, PRIVACY))
    registry.add_check(posture.published_notice)
