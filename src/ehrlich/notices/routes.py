"""Public notice pages: `/notice`, `/notice/v/{n}` and their JSON twins; the branding's
stylesheet `/brand.css` and logo `/brand/logo`.

English or German as `ehrlich.i18n` negotiates it (`?lang=`, the visible switch, first);
a short summary first, the details below. Nothing is loaded from elsewhere.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ehrlich.errors import NotFound
from ehrlich.i18n import LANGUAGE_NAMES, LANGUAGES, negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.branding import brand_css, current_brand, logo_of
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import NoticePage, canonical_json
from ehrlich.notices.views import localise
from ehrlich.web.deps import InstanceDep
from ehrlich.web.templating import render

router = APIRouter(tags=["notice"])
# Declared so that a malformed ?lang= is refused (422); `negotiate` reads the value.
LangQuery = Annotated[str | None, Query(pattern="^[a-z]{2}$", description="en or de")]


def _language(page: NoticePage | None, request: Request) -> str:
    """The request's language among those the notice is written in (`ehrlich.i18n`)."""
    return negotiate(request, tuple(code for code in LANGUAGES
                                    if page is None or code in page.published.notice.languages))


def notice_html(request: Request, instance: Instance, page: NoticePage, lang: str, *,
                preview: str | None = None) -> HTMLResponse:
    """The public notice page; with `preview`, a draft's page carrying that banner."""
    tr = translations(lang)
    backup_days = instance.backup.stated_age_days()
    info = page.published.info
    published = page.published.notice
    context: dict[str, Any] = {
        "lang": lang, "view": localise(published, lang),
        "languages": [(c, LANGUAGE_NAMES[c]) for c in LANGUAGES if c in published.languages],
        "number": info.number, "sha256": info.sha256, "older": not page.is_current,
        "version_line": tr.gettext("Version %(number)s, published %(date)s")
        % {"number": info.number, "date": f"{info.published_at:%Y-%m-%d}"},
        "json_url": "/notice.json" if page.is_current else f"/notice/v/{info.number}.json",
        "opt_out_text": tr.gettext(
            "Consent is voluntary. You can withdraw it at any time, as easily as you gave it: "
            "with the unsubscribe link in every message, or by writing to %(contact)s. "
            "Withdrawing does not make earlier processing unlawful.")
        % {"contact": published.controller.contact},
        "backups": tr.gettext(
            "Encrypted backups hold copies for at most %(days)s days. When a backup is "
            "restored, everyone who asked for erasure is erased again.")
        % {"days": backup_days} if backup_days else None,
        "versions": [{"number": v.number, "label": tr.gettext(
            "Version %(number)s, published %(date)s")
            % {"number": v.number, "date": f"{v.published_at:%Y-%m-%d}"}}
            for v in page.versions],
        "preview": preview,
    }
    response = render(request, "notice.html", context)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"  # the language cookie picks too
    return response


def _missing(request: Request, lang: str, message: str) -> HTMLResponse:
    return render(request, "notice_missing.html",
                  {"lang": lang, "message": message}, status_code=404)


def _json(instance: Instance, page: NoticePage) -> Response:
    info = page.published.info
    body: dict[str, Any] = {
        "version": info.number, "sha256": info.sha256,
        "published_at": info.published_at.isoformat(), "current": page.is_current,
        "notice": json.loads(canonical_json(page.published.notice))}
    backup_days = instance.backup.stated_age_days()
    if backup_days:
        body["backups"] = {"max_age_days": backup_days}
    return Response(json.dumps(body, ensure_ascii=False, indent=1),
                    media_type="application/json")


def _page_or_none(instance: InstanceDep, number: int | None) -> NoticePage | None:
    try:
        with instance.db.read() as session:
            return instance.notices.page(session, number)
    except NoticeNotPublished:
        return None


@router.get("/notice.json", summary="The current notice, machine-readable")
def current_notice_json(instance: InstanceDep) -> Response:
    with instance.db.read() as session:
        page = instance.notices.page(session)
    return _json(instance, page)


@router.get("/notice/v/{number}.json", summary="A published notice version, machine-readable")
def notice_version_json(instance: InstanceDep, number: int) -> Response:
    with instance.db.read() as session:
        page = instance.notices.page(session, number)
    return _json(instance, page)


@router.get("/notice", response_class=HTMLResponse, include_in_schema=False)
def current_notice(request: Request, instance: InstanceDep, lang: LangQuery = None
                   ) -> HTMLResponse:
    page = _page_or_none(instance, None)
    chosen = _language(page, request)
    if page is None:
        return _missing(request, chosen, translations(chosen).gettext(
            "No privacy notice has been published yet."))
    return notice_html(request, instance, page, chosen)


@router.get("/notice/v/{number}", response_class=HTMLResponse, include_in_schema=False)
def notice_version(request: Request, instance: InstanceDep, number: int,
                   lang: LangQuery = None) -> HTMLResponse:
    try:
        with instance.db.read() as session:
            page = instance.notices.page(session, number)
    except NotFound as exc:
        chosen = _language(None, request)
        return _missing(request, chosen, exc.message)
    return notice_html(request, instance, page, _language(page, request))


# With the version the page links (`?v=`) the answer never changes; without it, revalidate.
_FOREVER = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


@router.get("/brand.css", include_in_schema=False)
def brand_stylesheet(instance: InstanceDep, v: str | None = None) -> Response:
    with instance.db.read() as session:
        brand = current_brand(session, instance.notices)
    return Response(brand_css(brand), media_type="text/css", headers={
        "Cache-Control": _FOREVER if v == brand.version else _REVALIDATE})


@router.get("/brand/logo", include_in_schema=False)
def brand_logo(instance: InstanceDep, v: str | None = None) -> Response:
    with instance.db.read() as session:
        brand = current_brand(session, instance.notices)
        logo = logo_of(session)
    if logo is None:
        raise NotFound("no logo has been uploaded")
    data, media_type = logo
    return Response(data, media_type=media_type, headers={
        "Cache-Control": _FOREVER if v == brand.version else _REVALIDATE,
        "Content-Disposition": "inline; filename=logo", "X-Content-Type-Options": "nosniff"})
