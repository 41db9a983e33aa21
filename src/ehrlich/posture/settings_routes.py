"""Console page: the instance's effective settings, read-only, secrets masked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep
from ehrlich.admin.templating import page
from ehrlich.auth.roles import Permission, require
from ehrlich.i18n import N_, negotiate, translations
from ehrlich.posture.settings_view import settings_rows
from ehrlich.settings import config_file_for
from ehrlich.web.deps import InstanceDep

router = APIRouter(prefix="/admin/settings", include_in_schema=False)
TEXTS = {  # English, marked for the catalogue; translated per request
    'title': N_("Settings"),
    'name': N_("Setting"),
    'value': N_("Value"),
    'set': N_("set"),
    'not_set': N_("not set"),
    'unset': N_("(default: unset)"),
    'intro': N_("The settings in effect, read from {file} and EHRLICH_… environment variables. "
                "Change them there and restart; the console does not edit them. Secrets show only"
                " whether they are set; passwords in URLs are replaced by ***."),
}


def _texts(request: Request) -> dict[str, str]:
    tr = translations(negotiate(request))
    return {key: tr.gettext(text) for key, text in TEXTS.items()}


@router.get("", response_class=HTMLResponse)
def settings_page(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.SETTINGS_READ)
    return page(request, "posture/admin_settings.html", {
        "rows": settings_rows(instance.settings),
        "config_file": config_file_for(instance.settings.data_dir),
        "m": _texts(request)}, active=active)
