"""Signups over the API: `POST /api/v1/signups` has the semantics of the signup form
(double opt-in, published texts only, the same answer for new and known addresses).
The consent history and audience endpoints live in `consent.web.routes`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.consent.schemas import SignupInput, SignupReceipt
from ehrlich.consent.web.common import evidence_of
from ehrlich.web.deps import InstanceDep, NowDep, require_scope

router = APIRouter(prefix="/api/v1", tags=["consent"])
Signer = Annotated[ApiPrincipal, Depends(require_scope("signups:write"))]


@router.post("/signups", response_model=SignupReceipt, status_code=202,
             summary="Sign someone up: records `requested` and sends the confirmation mail",
             responses={503: {"description": "Signups are closed until mail is set up "
                                             "(problem type `signups-closed`)"}})
def create_signup(data: SignupInput, request: Request, caller: Signer, instance: InstanceDep,
                  now: NowDep) -> SignupReceipt:
    return instance.signups.sign_up(instance.db, instance.mail, data, method="api",
                                    evidence=evidence_of(request), now=now)
