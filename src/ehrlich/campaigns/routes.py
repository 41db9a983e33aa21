"""The campaigns API: `POST /api/v1/campaigns` writes a draft (token scope
`campaigns:write`; sending stays with staff in the console or the CLI), with the same
checks as the console's form and `ehrlich campaign create`: an unknown purpose is a 422
naming the field `purpose`.

`POST /webhooks/campaigns/feedback`: a mail provider's bounce and complaint notifications.

No bearer token (so not under /api/v1, where every operation takes one): the
provider signs each notification with the shared secret (Standard Webhooks,
`campaigns.webhook`). The signature is checked before the body is parsed; an
unsigned, stale or wrongly signed request gets 401 and changes nothing. The
answer says whether the report matched a campaign mail, so a provider's retry of
a matched one is harmless (`repeated`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ValidationError

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.campaigns.machine import Status
from ehrlich.campaigns.schemas import CampaignInput
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.webhook import Notification, WebhookRejected, verify
from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.web.deps import InstanceDep, NowDep, require_scope

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])
FEEDBACK_PATH = "/webhooks/campaigns/feedback"
webhooks = APIRouter(tags=["campaigns"])
Writer = Annotated[ApiPrincipal, Depends(require_scope("campaigns:write"))]


class CampaignCreated(BaseModel):
    id: str
    status: Status
    purpose: str
    channel: str


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CampaignCreated,
             summary="Write a draft campaign for a consent purpose of the published notice")
def create_campaign(body: CampaignInput, caller: Writer, now: NowDep,
                    instance: InstanceDep) -> CampaignCreated:
    view = instance.service(CampaignsService).create(instance.db, body, actor=caller.actor,
                                                     now=now)
    return CampaignCreated(id=view.id, status=view.status, purpose=view.purpose,
                           channel=view.channel)


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes."""
    return await request.body()


class FeedbackAnswer(BaseModel):
    outcome: Literal["recorded", "repeated", "unmatched"]
    """`unmatched`: no campaign mail has this Message-ID (or it went to another address)."""
    campaign_paused: bool


@webhooks.post(FEEDBACK_PATH, summary="A provider's bounce or complaint notification "
               "(signed: Standard Webhooks; see docs/campaigns.md)",
               responses={401: {"description": "Unsigned, stale or wrongly signed: nothing "
                                "was read or changed"}, 422: {}},
               openapi_extra={"requestBody": {"required": True, "content": {
                   "application/json": {"schema": Notification.model_json_schema()}}}})
def feedback(request: Request, instance: InstanceDep, now: NowDep,
             body: Annotated[bytes, Depends(raw_body)]) -> FeedbackAnswer:
    campaigns = instance.service(CampaignsService)
    keys = campaigns.webhook_keys(instance.db)
    if not keys:
        raise WebhookRejected("no webhook secret is configured; set "
                              "EHRLICH_CAMPAIGN_WEBHOOK_SECRET or make one on the console's "
                              "Campaigns → Reports page (docs/campaigns.md)")
    verify(keys, request.headers, body, now=now)
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput([FieldProblem(".".join(str(x) for x in e["loc"]) or "body",
                                         e["msg"])
                            for e in exc.errors(include_input=False, include_url=False)]
                           ) from None
    recorded = campaigns.record_feedback(
        instance.db, notification.feedback(), source="webhook", now=now)
    return FeedbackAnswer(outcome=recorded.outcome, campaign_paused=recorded.paused)
