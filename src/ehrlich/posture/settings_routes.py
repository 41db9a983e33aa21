"""Console page: the instance's effective settings, read-only, secrets masked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ehrlich.admin.deps import StaffDep
from ehrlich.admin.templating import page
from ehrlich.auth.roles import Permission, require
from ehrlich.posture.settings_view import settings_rows
from ehrlich.settings import config_file_for
from ehrlich.web.deps import InstanceDep

router = APIRouter(prefix="/admin/settings", include_in_schema=False)



@router.get("", response_class=HTMLResponse)
def settings_page(request: Request, instance: InstanceDep, active: StaffDep) -> HTMLResponse:
    require(active.role, Permission.SETTINGS_READ)
    return page(request, "posture/admin_settings.html", {
        "rows": settings_rows(instance.settings),
        "config_file": config_file_for(instance.settings.data_dir)}, active=active)
