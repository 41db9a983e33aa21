"""What every console handler needs: cookies, the signed-in staff member, CSRF and
same-origin checks, the client address, and redirects.

Cookies are `__Host-` prefixed and Secure when `base_url` is https; on a plain-HTTP
local instance (`make run`) they drop the prefix and the Secure flag, since a browser
would refuse them otherwise, and `ehrlich doctor` warns about it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from ehrlich.auth.errors import SessionExpired
from ehrlich.auth.guide import Guide, current_guide
from ehrlich.auth.sessions import STAGE_ENROL, STAGE_FULL, STAGE_MFA, ActiveSession
from ehrlich.crypto.digests import constant_time_equal, hmac_sha256
from ehrlich.instance.service import Instance
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.web.deps import InstanceDep, NowDep

DEVICE_MAX_AGE = 90 * 24 * 3600


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True)
class CookieNames:
    secure: bool
    session: str
    device: str
    pre: str


def cookie_names(instance: Instance) -> CookieNames:
    secure = instance.settings.base_url.startswith("https://")
    prefix = "__Host-" if secure else ""
    return CookieNames(secure, f"{prefix}ehrlich-session", f"{prefix}ehrlich-device",
                       f"{prefix}ehrlich-pre")


def set_cookie(response: Response, names: CookieNames, name: str, value: str, *,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=names.secure,
                        httponly=True, samesite="strict")


def clear_cookie(response: Response, names: CookieNames, name: str) -> None:
    response.delete_cookie(name, path="/", secure=names.secure, httponly=True,
                           samesite="strict")


def client_address(request: Request) -> str:
    """The peer address; behind a reverse proxy uvicorn has already replaced it with the
    X-Forwarded-For entry added by a proxy listed in `trusted_proxies`."""
    return request.client.host if request.client else "unknown"


def same_origin(request: Request, instance: Instance) -> bool:
    """Refuse cross-site form posts (besides the CSRF token): Sec-Fetch-Site and Origin."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:  # set by the browser itself; page scripts cannot forge it
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser form post; the CSRF token still has to match
    allowed = {f"{request.url.scheme}://{request.url.netloc}"}
    base = urlsplit(instance.settings.base_url)
    allowed.add(f"{base.scheme}://{base.netloc}")
    return origin in allowed


def pre_session_csrf(instance: Instance, pre: str) -> str:
    key = instance.keyring.token_key("csrf")
    return hmac_sha256(key, b"pre:" + pre.encode()).hex()


def new_pre_value() -> str:
    return secrets.token_urlsafe(16)


def check_pre_csrf(request: Request, instance: Instance, given: str) -> bool:
    pre = request.cookies.get(cookie_names(instance).pre, "")
    if not pre or not given or not same_origin(request, instance):
        return False
    return constant_time_equal(pre_session_csrf(instance, pre).encode(), given.encode())


def session_token(request: Request, instance: Instance) -> str | None:
    return request.cookies.get(cookie_names(instance).session)


def load_session(request: Request, instance: Instance, now: datetime, *,
                 stages: tuple[str, ...] = (STAGE_FULL,)) -> ActiveSession:
    try:
        with instance.db.write() as session:
            active = instance.staff.sessions.load(session, session_token(request, instance),
                                                  now=now)
    except SessionExpired:
        raise Redirect("/admin/login") from None
    if active.stage not in stages:
        raise Redirect({STAGE_MFA: "/admin/login/code",
                        STAGE_ENROL: "/admin/enrol"}.get(active.stage, "/admin/login"))
    request.state.staff_session = active  # for an error page's navigation
    return active


def _full_session(request: Request, instance: InstanceDep, now: NowDep) -> ActiveSession:
    active = load_session(request, instance, now)
    if active.must_change_password:  # an initial password never becomes the long-term one
        raise Redirect("/admin/account")
    if active.guide_ack_hash != guide_of(instance).hash:
        raise Redirect("/admin/guide")
    return active


def guide_of(instance: Instance) -> Guide:
    """The data-handling guide as it stands: built-in rules, the published notice, own text."""
    with instance.db.read() as session:
        try:
            notice = instance.notices.current(session).notice
        except NoticeNotPublished:
            notice = None
    return current_guide(instance.settings.data_dir, notice)


def _session_any_guide(request: Request, instance: InstanceDep, now: NowDep) -> ActiveSession:
    return load_session(request, instance, now)


StaffDep = Annotated[ActiveSession, Depends(_full_session)]
StaffBeforeGuideDep = Annotated[ActiveSession, Depends(_session_any_guide)]


def require_fresh(active: ActiveSession, instance: Instance, now: datetime, back: str) -> None:
    """Sensitive actions need a recent password (and code) confirmation."""
    if not active.fresh(now, instance.staff.sessions.policy):
        raise Redirect(f"/admin/reauth?next={back}")


def check_csrf(request: Request, instance: Instance, active: ActiveSession, given: str) -> bool:
    return same_origin(request, instance) and instance.staff.sessions.check_csrf(
        active.token, given)
