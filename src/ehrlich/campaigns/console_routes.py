"""Console pages for campaigns: the list, the editor with a preview (as a sample person
or as one contact), test sends to oneself, the send/schedule/pause/resume/cancel
buttons and the report's counts. Writing needs `campaigns.edit`, the buttons that
send or stop mail `campaigns.send`; the work is in `CampaignsService`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.auth.roles import Permission, allowed, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.campaigns.bounces import PAUSE_REASON
from ehrlich.campaigns.charts import report_charts
from ehrlich.campaigns.errors import CampaignStateError
from ehrlich.campaigns.machine import Action
from ehrlich.campaigns.machine import allowed as allowed_actions
from ehrlich.campaigns.render import Rendered
from ehrlich.campaigns.routes import FEEDBACK_PATH
from ehrlich.campaigns.schemas import CampaignInput, CampaignView
from ehrlich.campaigns.service import CampaignsService
from ehrlich.errors import InvalidInput
from ehrlich.i18n import language_name, negotiate, translations
from ehrlich.mail.imap import ImapConfig
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/admin/campaigns", include_in_schema=False)
PATH = "/admin/campaigns"
Text = Annotated[str, Form(max_length=200_000)]
Short = Annotated[str, Form(max_length=300)]
BUTTONS: tuple[Action, ...] = ("send", "schedule", "pause", "resume", "cancel")


def _service(instance: InstanceDep, active: ActiveSession) -> CampaignsService:
    require(active.role, Permission.CAMPAIGNS_EDIT)
    return instance.service(CampaignsService)


def _errors(exc: InvalidInput | ValidationError) -> dict[str, str]:
    if isinstance(exc, InvalidInput):
        return {p.field: p.reason for p in exc.problems}
    return {".".join(str(x) for x in e["loc"]): e["msg"]
            for e in exc.errors(include_input=False, include_url=False)}


def _form(name: str, purpose: str, language: str, subject: str, text_body: str,
          html_body: str) -> CampaignInput:
    return CampaignInput(name=name, purpose=purpose, language=language or "en",
                         subject=subject, text_body=text_body, html_body=html_body)


def paused_by_complaints(campaign: CampaignView | None) -> dict[str, object] | None:
    """The numbers behind an automatic pause (`complaints:N:DELIVERED`), for its page."""
    if campaign is None or campaign.status != "paused" or not campaign.paused_reason:
        return None
    kind, _, rest = campaign.paused_reason.partition(":")
    complaints, _, delivered = rest.partition(":")
    if kind != PAUSE_REASON or not complaints.isdigit() or not delivered.isdigit():
        return None
    return {"complaints": int(complaints), "delivered": int(delivered),
            "rate": int(complaints) / max(int(delivered), 1)}


def _editor(request: Request, instance: InstanceDep, active: ActiveSession, *,
            campaign: CampaignView | None, values: dict[str, str],
            errors: dict[str, str] | None = None, preview: Rendered | None = None,
            report: object = None, message: str = "", message_kind: str = "error",
            subject_id: str = "", status_code: int = 200) -> HTMLResponse:
    """The editor; `message` is shown once, by the console's layout (`message_kind` ok for
    a success, else as an alert)."""
    buttons = [a for a in BUTTONS if campaign is not None
               and a in allowed_actions(campaign.status)
               and allowed(active.role, Permission.CAMPAIGNS_SEND)]
    purposes = instance.service(CampaignsService).purposes(instance.db,
                                                           language=negotiate(request))
    if values.get("purpose") and values["purpose"] not in dict(purposes):
        purposes.append((values["purpose"], values["purpose"]))  # shown; refused on saving
    ui = negotiate(request)
    reach = (instance.service(CampaignsService).reach(instance.db, campaign.purpose)
             if campaign is not None and campaign.status in ("draft", "scheduled") else None)
    return page(request, "campaigns/editor.html", {
        "reach": reach,
        "languages": [(tag, language_name(tag, ui)) for tag in instance.service(
            CampaignsService).languages(instance.db, current=values.get("language", ""))],
        "campaign": campaign, "values": values, "errors": errors or {}, "preview": preview,
        "report": report, "message": message, "message_kind": message_kind,
        "buttons": buttons, "subject_id": subject_id,
        "editable": campaign is None or campaign.status == "draft", "purposes": purposes,
        "paused": paused_by_complaints(campaign),
        "limit": instance.settings.campaign_complaint_limit},
        active=active, status_code=status_code)


def _values(view: CampaignView | CampaignInput) -> dict[str, str]:
    return {k: str(getattr(view, k)) for k in ("name", "purpose", "language", "subject",
                                               "text_body", "html_body")}


@router.get("", response_class=HTMLResponse)
def index(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    campaigns = _service(instance, active)
    return page(request, "campaigns/index.html", {
        "campaigns": campaigns.recent(instance.db)}, active=active)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    offered = _service(instance, active).purposes(instance.db)
    return _editor(request, instance, active, campaign=None, values={
        "name": "", "purpose": offered[0][0] if offered else "", "language": "en",
        "subject": "",
        "text_body": "Hello {{ name }},\n\n\n\nUnsubscribe: {{ unsubscribe_url }}\n",
        "html_body": ""})


def _reports(request: Request, instance: InstanceDep, active: ActiveSession, *,
             new_secret: str = "", message: str = "", status_code: int = 200) -> HTMLResponse:
    campaigns = _service(instance, active)
    rows = campaigns.reports(instance.db)
    tr = translations(negotiate(request))
    settings = instance.settings
    return page(request, "campaigns/reports.html", {
        "rows": rows, "charts": report_charts(rows, tr) if len(rows) >= 2 else [],
        "webhook_url": f"{settings.base_url.rstrip('/')}{FEEDBACK_PATH}",
        "settings_secret": settings.campaign_webhook_secret is not None,
        "console_secret": campaigns.webhook_generation(instance.db),
        "new_secret": new_secret, "message": message,
        "may_make_secret": allowed(active.role, Permission.CAMPAIGNS_SEND),
        "bounce_mailbox": ImapConfig.from_settings(settings, "bounce") is not None,
        "limit": settings.campaign_complaint_limit}, active=active, status_code=status_code)


@router.get("/reports", response_class=HTMLResponse)
def reports(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    """Sent, delivered, deferred, bounced, complained and unsubscribed per campaign: two
    charts drawn on the server and the same numbers as a table."""
    return _reports(request, instance, active)


@router.post("/webhook-secret", response_class=HTMLResponse)
def webhook_secret(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                   csrf: Short = "") -> HTMLResponse:
    """A new secret for the bounce and complaint webhook, shown once on the page."""
    campaigns = _service(instance, active)
    require(active.role, Permission.CAMPAIGNS_SEND)
    if not check_csrf(request, instance, active, csrf):
        return _reports(request, instance, active, status_code=403,
                        message=translations(negotiate(request)).gettext(
                            "This form expired. Please send it again."))
    secret = campaigns.new_webhook_secret(instance.db, actor=f"staff:{active.user_id}",
                                          now=now)
    return _reports(request, instance, active, new_secret=secret)


@router.post("", response_class=HTMLResponse)
def create(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
           csrf: Short = "", name: Short = "", purpose: Short = "", language: Short = "",
           subject: Short = "", text_body: Text = "", html_body: Text = "") -> Response:
    campaigns = _service(instance, active)
    values = {"name": name, "purpose": purpose, "language": language, "subject": subject,
              "text_body": text_body, "html_body": html_body}
    if not check_csrf(request, instance, active, csrf):
        return _editor(request, instance, active, campaign=None, values=values, status_code=403,
                       message=translations(negotiate(request)).gettext(
                           "This form expired. Please send it again."))
    try:
        view = campaigns.create(instance.db, _form(**values), actor=f"staff:{active.user_id}",
                                now=now)
    except (InvalidInput, ValidationError) as exc:
        return _editor(request, instance, active, campaign=None, values=values, errors=_errors(exc),
                       status_code=422)
    return RedirectResponse(f"{PATH}/{view.id}", status_code=303)


@router.get("/{campaign_id}", response_class=HTMLResponse)
def show(request: Request, campaign_id: str, instance: InstanceDep, now: NowDep,
         active: StaffDep, subject: Annotated[str, Query(max_length=320)] = ""
         ) -> HTMLResponse:
    campaigns = _service(instance, active)
    view = campaigns.get(instance.db, campaign_id)
    errors: dict[str, str] = {}
    try:
        preview = campaigns.preview(instance.db, campaign_id, subject_id=subject.strip(),
                                    actor=f"staff:{active.user_id}", now=now)
    except InvalidInput as exc:
        preview, errors = None, _errors(exc)
    return _editor(request, instance, active, campaign=view, values=_values(view), errors=errors,
                   preview=preview, report=campaigns.report(instance.db, campaign_id),
                   subject_id=subject, status_code=422 if errors else 200)


@router.post("/{campaign_id}", response_class=HTMLResponse)
def update(request: Request, campaign_id: str, instance: InstanceDep, now: NowDep,
           active: StaffDep, csrf: Short = "", name: Short = "", purpose: Short = "",
           language: Short = "", subject: Short = "", text_body: Text = "",
           html_body: Text = "") -> Response:
    campaigns = _service(instance, active)
    values = {"name": name, "purpose": purpose, "language": language, "subject": subject,
              "text_body": text_body, "html_body": html_body}
    view = campaigns.get(instance.db, campaign_id)
    tr = translations(negotiate(request))
    if not check_csrf(request, instance, active, csrf):
        return _editor(request, instance, active, campaign=view, values=values, status_code=403,
                       message=tr.gettext("This form expired. Please send it again."))
    try:
        campaigns.update(instance.db, campaign_id, _form(**values),
                         actor=f"staff:{active.user_id}", now=now)
    except (InvalidInput, ValidationError) as exc:
        return _editor(request, instance, active, campaign=view, values=values, errors=_errors(exc),
                       status_code=422)
    except CampaignStateError:
        return _editor(request, instance, active, campaign=view, values=values, status_code=409,
                       message=tr.gettext("Only a draft can be changed."))
    return RedirectResponse(f"{PATH}/{campaign_id}", status_code=303)


@router.post("/{campaign_id}/test", response_class=HTMLResponse)
def send_test(request: Request, campaign_id: str, instance: InstanceDep, now: NowDep,
              active: StaffDep, csrf: Short = "") -> Response:
    campaigns = _service(instance, active)
    tr = translations(negotiate(request))
    view = campaigns.get(instance.db, campaign_id)
    if not check_csrf(request, instance, active, csrf):
        return _editor(request, instance, active, campaign=view, values=_values(view),
                       status_code=403,
                       message=tr.gettext("This form expired. Please send it again."))
    campaigns.test_send(instance.db, campaign_id, to=active.email, mail=instance.mail,
                        actor=f"staff:{active.user_id}", now=now)
    return _editor(request, instance, active, campaign=view, values=_values(view),
                   report=campaigns.report(instance.db, campaign_id),
                   message=tr.gettext("A test was sent to your own address."),
                   message_kind="ok")


@router.post("/{campaign_id}/action", response_class=HTMLResponse)
def act(request: Request, campaign_id: str, instance: InstanceDep, now: NowDep,
        active: StaffDep, csrf: Short = "", action: Short = "", at: Short = "") -> Response:
    campaigns = _service(instance, active)
    require(active.role, Permission.CAMPAIGNS_SEND)
    tr = translations(negotiate(request))
    view = campaigns.get(instance.db, campaign_id)

    def again(message: str, status_code: int, errors: dict[str, str] | None = None
              ) -> HTMLResponse:
        return _editor(request, instance, active, campaign=view, values=_values(view),
                       errors=errors, report=campaigns.report(instance.db, campaign_id),
                       message=message, status_code=status_code)

    if not check_csrf(request, instance, active, csrf):
        return again(tr.gettext("This form expired. Please send it again."), 403)
    if action not in BUTTONS:
        return again("", 422, {"action": tr.gettext("Choose one of the buttons.")})
    when: datetime | None = None
    if action == "schedule":
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            return again("", 422, {"scheduled_at": tr.gettext(
                "Give a date and time, e.g. 2026-12-01T09:00.")})
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    try:
        campaigns.act(instance.db, campaign_id, action,
                      actor=f"staff:{active.user_id}", now=now, at=when)
    except InvalidInput as exc:
        return again("", 422, _errors(exc))
    except CampaignStateError:
        return again(tr.gettext("The campaign's status changed; nothing was done."), 409)
    return RedirectResponse(f"{PATH}/{campaign_id}", status_code=303)


