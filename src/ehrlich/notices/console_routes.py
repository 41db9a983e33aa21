"""Console pages of the notices domain: published versions and their diffs, the draft
editor (check, preview in each language, publish with its impact shown first), the
signup snippet for other websites, and the public pages' branding.

Reading needs `notice.read` (owner, admin, auditor); changing the draft, publishing
and branding need `notice.edit` (owner, admin). Publishing goes through
`NoticesService.publish`, as `ehrlich notice publish` does, after a fresh sign-in
confirmation; the confirmation form names the draft's hash, so a draft changed in
between is not published unseen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ehrlich.admin.deps import StaffDep, check_csrf, require_fresh
from ehrlich.admin.templating import page
from ehrlich.admin.texts import FORM_EXPIRED
from ehrlich.auth.roles import Permission, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.consent.signup.embed_snippet import form_snippet, iframe_snippet
from ehrlich.errors import InvalidInput
from ehrlich.i18n import N_, negotiate, translations
from ehrlich.instance.service import Instance
from ehrlich.notices.branding import MAX_LOGO_BYTES, current_brand, save_branding
from ehrlich.notices.drafts import DRAFT_FILE, check_draft, load_draft, save_draft
from ehrlich.notices.errors import NoticeInvalid, NoticeNotPublished
from ehrlich.notices.routes import notice_html
from ehrlich.notices.schemas import Finding, VersionInfo
from ehrlich.notices.service import NoticePage, PublishedNotice, content_hash
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/notice", include_in_schema=False)
FormStr = Annotated[str, Form(max_length=4096)]
DraftText = Annotated[str, Form(max_length=200_000)]


def _page(request: Request, template: str, active: ActiveSession, context: dict[str, Any],
          status_code: int = 200) -> HTMLResponse:
    return page(request, template, context, active=active, status_code=status_code)


def _t(request: Request, text: str) -> str:
    """`text` in the request's language (the catalogue's German, see ehrlich.i18n)."""
    return translations(negotiate(request)).gettext(text)


@router.get("", response_class=HTMLResponse)
def versions(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.NOTICE_READ)
    with instance.db.read() as session:
        found = list(reversed(instance.notices.versions(session)))
    return _page(request, "notice_admin/versions.html", active, {"versions": found})


@router.get("/v/{number}/diff", response_class=HTMLResponse)
def version_diff(request: Request, number: int, instance: InstanceDep,
                 active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.NOTICE_READ)
    with instance.db.read() as session:
        diff = instance.notices.diff_to_previous(session, number, language=negotiate(request))
        info = instance.notices.version(session, number).info
    return _page(request, "notice_admin/diff.html", active, {"diff": diff, "info": info})


def _lines(source: str, findings: list[Finding]) -> list[tuple[int, str, list[Finding]]]:
    """Each line of the text with the findings that point at it."""
    lines = source.split("\n")
    by_line: dict[int, list[Finding]] = {}
    for finding in findings:  # YAML errors at the end of the text point one line past it
        by_line.setdefault(min(max(finding.line, 1), len(lines)), []).append(finding)
    return [(i, text, by_line.get(i, [])) for i, text in enumerate(lines, start=1)]


def _editor(request: Request, instance: Instance, active: ActiveSession, *,
            source: str | None = None, message: str | None = None,
            status_code: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        draft = load_draft(session, instance.notices)
    text = draft.source if source is None else source
    check = check_draft(text, language=negotiate(request))
    return _page(request, "notice_admin/draft.html", active, {
        "draft": draft, "source": text, "check": check,
        "lines": _lines(text, check.findings), "message": message}, status_code)


@router.get("/draft", response_class=HTMLResponse)
def draft_page(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.NOTICE_EDIT)
    return _editor(request, instance, active)


@router.post("/draft", response_class=HTMLResponse)
def save_and_check(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                   source: DraftText = "", csrf: FormStr = "") -> HTMLResponse:
    """Save the draft (audited) and show the loader's and the linter's findings."""
    require(active.role, Permission.NOTICE_EDIT)
    if not check_csrf(request, instance, active, csrf):
        return _editor(request, instance, active, source=source,
                       message=_t(request, FORM_EXPIRED),
                       status_code=403)
    try:
        with instance.db.write() as session:
            save_draft(session, instance.audit, source, actor=active.email, now=now)
    except InvalidInput as exc:
        return _editor(request, instance, active, source=source,
                       message=f"{exc.problems[0].field}: {exc.problems[0].reason}",
                       status_code=422)
    return _editor(request, instance, active)


@router.get("/draft/preview", response_class=HTMLResponse)
def preview(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
            lang: str = "en") -> HTMLResponse:
    """The public notice page rendered from the draft, marked as a preview."""
    require(active.role, Permission.NOTICE_EDIT)
    with instance.db.read() as session:
        draft = load_draft(session, instance.notices)
        published = instance.notices.versions(session)
    check = check_draft(draft.source, language=negotiate(request))
    if check.notice is None:
        return _editor(request, instance, active, status_code=422)
    number = published[-1].number + 1 if published else 1
    info = VersionInfo(number, content_hash(check.notice), now, active.email)
    shown = NoticePage(PublishedNotice(info, check.notice, draft.source), [*published, info])
    chosen = lang if lang in check.notice.languages else check.notice.languages[0]
    response = notice_html(request, instance, shown, chosen,
                           preview=_t(request, N_(
                               "Preview of the draft: not published. Visitors still see "
                               "the published version.")))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _impact_page(request: Request, instance: Instance, active: ActiveSession, *,
                 message: str | None = None, status_code: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        draft = load_draft(session, instance.notices)
        try:
            impact = instance.notices.impact(session, draft.source, file=DRAFT_FILE,
                                             language=negotiate(request))
        except NoticeInvalid:
            impact = None
    warnings = [f for f in check_draft(draft.source, language=negotiate(request)).findings
                if f.severity == "warning"]
    return _page(request, "notice_admin/publish.html", active, {
        "impact": impact, "draft": draft, "message": message, "warnings": warnings},
        status_code)


@router.get("/draft/publish", response_class=HTMLResponse)
def publish_impact(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.NOTICE_EDIT)
    return _impact_page(request, instance, active)


def _publish(instance: Instance, active: ActiveSession, source: str, now: datetime
             ) -> tuple[int, bool, int]:
    with instance.db.write() as session:
        outcome = instance.notices.publish(session, source, file=DRAFT_FILE,
                                           publisher=active.email, now=now)
    return outcome.version.number, outcome.created, outcome.renewals


@router.post("/draft/publish", response_class=HTMLResponse)
def publish(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
            draft_sha256: FormStr = "", csrf: FormStr = "") -> HTMLResponse:
    """Publish the draft whose impact was shown (after a fresh confirmation)."""
    require(active.role, Permission.NOTICE_EDIT)
    if not check_csrf(request, instance, active, csrf):
        return _impact_page(request, instance, active, message=_t(request, FORM_EXPIRED),
                            status_code=403)
    require_fresh(active, instance, now, "/admin/notice/draft/publish")
    with instance.db.read() as session:
        draft = load_draft(session, instance.notices)
    if draft.sha256 != draft_sha256:
        return _impact_page(request, instance, active, message=_t(request, N_(
                                "The draft changed since this page was shown; check the "
                                "impact again.")),
                            status_code=409)
    number, created, renewals = _publish(instance, active, draft.source, now)
    done = N_("Version %(number)s is published.")
    same = N_("Nothing new was published: version %(number)s already says this.")
    message = _t(request, done if created else same) % {"number": number}
    if renewals:
        message += " " + _t(request, N_(
            "%(count)s people's consent was marked for renewal.")) % {"count": renewals}
    with instance.db.read() as session:
        found = list(reversed(instance.notices.versions(session)))
    return _page(request, "notice_admin/versions.html", active, {
        "versions": found, "flash": message}, 201 if created else 200)


@router.get("/embed", response_class=HTMLResponse)
def embed(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.NOTICE_READ)
    lang = negotiate(request)
    settings = instance.settings
    try:
        with instance.db.read() as session:
            published = instance.notices.current(session)
    except NoticeNotPublished:
        published = None
    origins = settings.signup_origins.split()
    return _page(request, "notice_admin/embed.html", active, {
        "iframe": iframe_snippet(settings.base_url, lang),
        "form": form_snippet(settings.base_url, published, lang) if published else None,
        "number": published.info.number if published else 0,
        "frame_origins": " ".join(origins) or _t(request, N_("any https site")),
        "post_origins": " ".join(origins) or _t(
            request, N_("none: only this server's own pages")),
        "action": settings.base_url.rstrip("/") + "/signup"})


def _branding_page(request: Request, instance: Instance, active: ActiveSession, *,
                   values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                   message: str | None = None, status_code: int = 200) -> HTMLResponse:
    with instance.db.read() as session:
        brand = current_brand(session, instance.notices)
    shown = values or {"name": brand.name, "contact": brand.contact, "accent": brand.accent}
    return _page(request, "notice_admin/branding.html", active, {
        "brand": brand, "values": shown, "errors": errors or {}, "flash": message,
        "max_kb": MAX_LOGO_BYTES // 1024}, status_code)


@router.get("/branding", response_class=HTMLResponse)
def branding(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.NOTICE_EDIT)
    return _branding_page(request, instance, active)


async def _upload(logo: UploadFile | None) -> bytes | None:
    """The uploaded bytes (one byte over the limit at most, so the limit names itself)."""
    if logo is None or not logo.filename:
        return None
    return await logo.read(MAX_LOGO_BYTES + 1)


@router.post("/branding", response_class=HTMLResponse)
async def save_brand(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                     name: FormStr = "", contact: FormStr = "", accent: FormStr = "",
                     remove_logo: FormStr = "", csrf: FormStr = "",
                     logo: Annotated[UploadFile | None, File()] = None) -> Response:
    require(active.role, Permission.NOTICE_EDIT)
    values = {"name": name, "contact": contact, "accent": accent}
    if not check_csrf(request, instance, active, csrf):
        return _branding_page(request, instance, active, values=values,
                              message=_t(request, FORM_EXPIRED), status_code=403)
    data = await _upload(logo)

    def save() -> None:
        with instance.db.write() as session:
            save_branding(session, instance.audit, instance.notices, name=name,
                          contact=contact, accent=accent, logo=data,
                          remove_logo=bool(remove_logo), actor=active.email, now=now)

    try:
        await run_in_threadpool(save)
    except InvalidInput as exc:
        return _branding_page(request, instance, active, values=values,
                              errors={p.field: p.reason for p in exc.problems},
                              message=_t(request, N_("Please fix the marked fields.")),
                              status_code=422)
    return _branding_page(request, instance, active,
                          message=_t(request, N_("Branding saved.")))
