"""`POST /api/v1/campaigns/feedback`: a mail provider's bounce and complaint notifications.

No bearer token: the provider signs each notification with the shared secret
(Standard Webhooks, `campaigns.webhook`). The signature is checked before the
body is parsed; an unsigned, stale or wrongly signed request gets 401 and
changes nothing. The answer says whether the report matched a campaign mail, so
a provider's retry of a matched one is harmless (`repeated`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError

from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.webhook import Notification, WebhookRejected, secret_key, verify
from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


async def raw_body(request: Request) -> bytes:
    """The body exactly as sent: the signature covers these bytes."""
    return await request.body()


class FeedbackAnswer(BaseModel):
    outcome: Literal["recorded", "repeated", "unmatched"]
    """`unmatched`: no campaign mail has this Message-ID (or it went to another address)."""
    campaign_paused: bool


@router.post("/feedback", summary="A provider's bounce or complaint notification "
             "(signed: Standard Webhooks)", responses={401: {}, 422: {}})
def feedback(request: Request, instance: InstanceDep, now: NowDep,
             body: Annotated[bytes, Depends(raw_body)]) -> FeedbackAnswer:
    secret = instance.settings.campaign_webhook_secret
    if secret is None:
        raise WebhookRejected("no webhook secret is configured; set "
                              "EHRLICH_CAMPAIGN_WEBHOOK_SECRET (docs/campaigns.md)")
    verify(secret_key(secret.get_secret_value()), request.headers, body, now=now)
    try:
        notification = Notification.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput([FieldProblem(".".join(str(x) for x in e["loc"]) or "body",
                                         e["msg"])
                            for e in exc.errors(include_input=False, include_url=False)]
                           ) from None
    recorded = instance.service(CampaignsService).record_feedback(
        instance.db, notification.feedback(), source="webhook", now=now)
    return FeedbackAnswer(outcome=recorded.outcome, campaign_paused=recorded.paused)
