"""HTTP API for the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.web.deps import InstanceDep, require_scope

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class ChainStatus(BaseModel):
    ok: bool
    checked: int
    first_broken: int | None
    reason: str


@router.get("/verify", response_model=ChainStatus, summary="Verify the audit chain")
def verify(caller: Annotated[ApiPrincipal, Depends(require_scope("audit:read"))],
           instance: InstanceDep) -> ChainStatus:
    with instance.db.read() as session:
        report = instance.audit.verify_chain(session)
    return ChainStatus(ok=report.ok, checked=report.checked, first_broken=report.first_broken,
                       reason=report.reason)
