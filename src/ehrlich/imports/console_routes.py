"""Console pages for importing a list: upload → columns with a preview → consent
evidence and options → confirm → progress → report. Each step needs the
`subjects.import` permission; the work is in `ImportsService`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from ehrlich.admin.deps import StaffDep, check_csrf
from ehrlich.admin.templating import page
from ehrlich.auth.roles import Permission, require
from ehrlich.auth.sessions import ActiveSession
from ehrlich.errors import InvalidInput
from ehrlich.i18n import LANGUAGES, language_name, negotiate
from ehrlich.imports.csvfile import Table
from ehrlich.imports.rows import Rejected
from ehrlich.imports.schemas import ColumnMapping, ImportPlan
from ehrlich.imports.service import PREVIEW_ROWS, ImportsService, check_mapping
from ehrlich.imports.tasks import RUN_TASK
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.web.deps import InstanceDep, NowDep
from ehrlich.web.field_errors import reason_text

router = APIRouter(prefix="/admin/imports", include_in_schema=False)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
FormStr = Annotated[str, Form(max_length=4096)]
Column = Annotated[str, Form(max_length=200)]


def _imports(instance: InstanceDep, active: ActiveSession) -> ImportsService:
    require(active.role, Permission.SUBJECTS_IMPORT)
    return instance.service(ImportsService)


def _errors(exc: InvalidInput | ValidationError, prefix: str = "") -> dict[str, str]:
    """Field → reason; `prefix` places a model's own fields (`email` → `mapping.email`)."""
    if isinstance(exc, InvalidInput):
        return {p.field: p.reason for p in exc.problems}
    found = {}
    for e in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in e["loc"])
        found[field if field.startswith(prefix) else prefix + field] = e["msg"]
    return found


def _render(request: Request, active: ActiveSession, template: str, context: dict[str, Any],
            status_code: int = 200) -> HTMLResponse:
    return page(request, f"imports/{template}", {
        "errors": {}, **context},
        active=active, status_code=status_code)


def _expired(request: Request, active: ActiveSession) -> HTMLResponse:
    return _render(request, active, "expired.html", {}, status_code=403)


@router.get("", response_class=HTMLResponse)
def index(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    imports = _imports(instance, active)
    return _render(request, active, "index.html", {"runs": imports.recent(instance.db)})


@router.post("", response_class=HTMLResponse)
async def upload(request: Request, instance: InstanceDep, now: NowDep, active: StaffDep,
                 file: Annotated[UploadFile, File()], csrf: FormStr = "") -> Response:
    imports = _imports(instance, active)
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, active)
    raw = await file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InvalidInput.one("file", f"is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        run, _ = imports.upload(instance.db, raw, actor=f"staff:{active.user_id}", now=now)
    except InvalidInput as exc:
        return _render(request, active, "index.html", {
            "runs": imports.recent(instance.db), "errors": _errors(exc)}, status_code=422)
    return RedirectResponse(f"{router.prefix}/{run.id}/columns", status_code=303)


def _columns_page(request: Request, active: ActiveSession, run_id: str, table: Table,
                  encoding: str, mapping: ColumnMapping | None = None,
                  errors: dict[str, str] | None = None, status_code: int = 200
                  ) -> HTMLResponse:
    return _render(request, active, "columns.html", {
        "run_id": run_id, "table": table, "encoding": encoding,
        "preview": [cells for _, cells in table.rows[:PREVIEW_ROWS]],
        "mapping": mapping or ColumnMapping.guessed(table.header), "errors": errors or {}},
        status_code=status_code)


@router.get("/{run_id}/columns", response_class=HTMLResponse)
def columns(request: Request, run_id: str, instance: InstanceDep, active: StaffDep
            ) -> HTMLResponse:
    imports = _imports(instance, active)
    run = imports.view(instance.db, run_id)
    return _columns_page(request, active, run_id, imports.table_of(instance.db, run_id),
                         run.encoding)


def _mapping(email: str, name: str, phone: str, attributes: list[str]) -> ColumnMapping:
    return ColumnMapping(email=email or None, name=name or None, phone=phone or None,
                         attributes=[a for a in attributes if a])


@router.post("/{run_id}/columns", response_class=HTMLResponse)
def choose_columns(request: Request, run_id: str, instance: InstanceDep, active: StaffDep,
                   csrf: FormStr = "", email: Column = "", name: Column = "",
                   phone: Column = "",
                   attributes: Annotated[list[str] | None, Form()] = None) -> HTMLResponse:
    imports = _imports(instance, active)
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, active)
    run = imports.view(instance.db, run_id)
    table = imports.table_of(instance.db, run_id)
    try:
        mapping = _mapping(email, name, phone, attributes or [])
        check_mapping(table.header, mapping)
    except (InvalidInput, ValidationError) as exc:
        return _columns_page(request, active, run_id, table, run.encoding,
                             ColumnMapping.model_construct(
                                 email=email, name=name, phone=phone,
                                 attributes=attributes or []),
                             _errors(exc, "mapping."), status_code=422)
    return _evidence_page(request, instance, active, run_id, table, mapping)


def _evidence_page(request: Request, instance: InstanceDep, active: ActiveSession,
                   run_id: str, table: Table, mapping: ColumnMapping,
                   values: dict[str, Any] | None = None,
                   errors: dict[str, str] | None = None, status_code: int = 200
                   ) -> HTMLResponse:
    imports = _imports(instance, active)
    ui = negotiate(request)
    try:
        purposes, languages = imports.consent_choices(instance.db, language=ui)
    except NoticeNotPublished:
        purposes, languages = [], list(LANGUAGES)
    free = [h for h in table.header if h and h not in mapping.columns()]
    return _render(request, active, "evidence.html", {
        "run_id": run_id, "mapping": mapping, "free": free, "purposes": purposes,
        "languages": [(tag, language_name(tag, ui)) for tag in languages],
        "mail_on": imports.mail_on, "v": values or {"purpose": "newsletter", "language":
                                                   negotiate(request)},
        "errors": errors or {}}, status_code=status_code)


@router.post("/{run_id}/plan", response_class=HTMLResponse)
def save_plan(request: Request, run_id: str, instance: InstanceDep, now: NowDep,
              active: StaffDep, csrf: FormStr = "", email: Column = "", name: Column = "",
              phone: Column = "", attributes: Annotated[list[str] | None, Form()] = None,
              source: FormStr = "", purpose: Column = "newsletter", lang: Column = "en",
              source_column: Column = "", date_column: Column = "",
              version_column: Column = "", text_column: Column = "",
              notice_version: Column = "", ask_again: Column = "") -> Response:
    imports = _imports(instance, active)
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, active)
    values = {"source": source, "purpose": purpose, "language": lang,
              "source_column": source_column, "date_column": date_column,
              "version_column": version_column, "text_column": text_column,
              "notice_version": notice_version, "ask_again": bool(ask_again)}
    mapping = ColumnMapping.model_construct(email=email, name=name, phone=phone,
                                            attributes=attributes or [])
    try:
        mapping = _mapping(email, name, phone, attributes or [])
        if notice_version and not notice_version.isdigit():
            raise InvalidInput.one("evidence.notice_version", "must be a version number")
        plan = ImportPlan.model_validate({
            "mapping": mapping.model_dump(), "evidence": {
                "source_column": source_column or None, "date_column": date_column or None,
                "version_column": version_column or None, "text_column": text_column or None,
                "notice_version": int(notice_version) if notice_version else None},
            "options": {"source": source, "purpose": purpose, "language": lang,
                        "ask_again": bool(ask_again)}})
        imports.save_plan(instance.db, run_id, plan, now=now)
    except (InvalidInput, ValidationError) as exc:
        table = imports.table_of(instance.db, run_id)
        return _evidence_page(request, instance, active, run_id, table, mapping, values,
                              _errors(exc), status_code=422)
    return RedirectResponse(f"{router.prefix}/{run_id}/confirm", status_code=303)


@router.get("/{run_id}/confirm", response_class=HTMLResponse)
def confirm(request: Request, run_id: str, instance: InstanceDep, now: NowDep,
            active: StaffDep) -> HTMLResponse:
    imports = _imports(instance, active)
    run = imports.view(instance.db, run_id)
    plan = imports.plan_of(instance.db, run_id)
    refused = imports.dry_run(instance.db, imports.table_of(instance.db, run_id), plan,
                              now=now)
    ui = negotiate(request)
    try:
        titles = dict(imports.consent_choices(instance.db, language=ui)[0])
    except NoticeNotPublished:
        titles = {}
    return _render(request, active, "confirm.html", {
        "run": run, "plan": plan, "refused": len(refused),
        "purpose": titles.get(plan.options.purpose, plan.options.purpose),
        "language": language_name(plan.options.language, ui)})


@router.post("/{run_id}/start")
def start(request: Request, run_id: str, instance: InstanceDep, now: NowDep,
          active: StaffDep, csrf: FormStr = "") -> Response:
    imports = _imports(instance, active)
    if not check_csrf(request, instance, active, csrf):
        return _expired(request, active)
    imports.start(instance.db, run_id, actor=f"staff:{active.user_id}", now=now)
    instance.jobs.enqueue(RUN_TASK, run_id)
    return RedirectResponse(f"{router.prefix}/{run_id}", status_code=303)


@router.get("/{run_id}", response_class=HTMLResponse)
def progress(request: Request, run_id: str, instance: InstanceDep, active: StaffDep
             ) -> HTMLResponse:
    imports = _imports(instance, active)
    run = imports.view(instance.db, run_id)
    lang = negotiate(request)
    # the reasons as the reader reads them (the downloadable report keeps them as stored)
    report = [Rejected(r.row, r.field, reason_text(r.reason, lang))
              for r in imports.report(instance.db, run_id)[:50]] if run.status == "done" else []
    return _render(request, active, "progress.html", {"run": run, "report": report})


@router.get("/{run_id}/progress")
def progress_json(run_id: str, instance: InstanceDep, active: StaffDep) -> JSONResponse:
    run = _imports(instance, active).view(instance.db, run_id)
    return JSONResponse({**run.model_dump(include={
        "status", "done_rows", "total_rows", "created", "merged", "suppressed", "rejected",
        "with_evidence", "asked_again"}), "percent": run.percent},
        headers={"cache-control": "no-store"})


@router.get("/{run_id}/report.csv")
def report_csv(run_id: str, instance: InstanceDep, active: StaffDep) -> Response:
    text = _imports(instance, active).report_csv(instance.db, run_id)
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="import-{run_id}-rejected.csv"',
        "cache-control": "no-store"})
