"""HTTP for consent: one-click unsubscribe (public) and the consent check (API).

`POST /unsubscribe/{token}` follows RFC 8058: it takes the
`List-Unsubscribe=One-Click` body form-encoded or multipart (and does not
insist on it), needs no login, cookie or CSRF token, never redirects, is
idempotent, and answers unknown or forged tokens exactly as valid ones.
`GET` only shows the button: mail scanners prefetch links.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as quoted
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.consent.ledger.actions import check_address, one_click_unsubscribe, subject_history
from ehrlich.consent.ledger.audience import contact_field, export_audience
from ehrlich.consent.schemas import (
    CHANNEL_PATTERN,
    PURPOSE_PATTERN,
    AudienceChannel,
    ConsentCheck,
    ConsentEventView,
    Evidence,
)
from ehrlich.consent.unsubscribe.links import read_unsubscribe_token
from ehrlich.crypto import TokenInvalid
from ehrlich.i18n import negotiate
from ehrlich.spreadsheets import csv_text
from ehrlich.storage.base import new_id
from ehrlich.web.deps import InstanceDep, NowDep, require_scope
from ehrlich.web.templating import render

pages = APIRouter(tags=["unsubscribe"])
api = APIRouter(prefix="/api/v1/consent", tags=["consent"])
subject_api = APIRouter(prefix="/api/v1/subjects", tags=["consent"])
audience_api = APIRouter(prefix="/api/v1/audience", tags=["consent"])
routers = (pages, api, subject_api, audience_api)

Reader = Annotated[ApiPrincipal, Depends(require_scope("consent:read"))]
Exporter = Annotated[ApiPrincipal, Depends(require_scope("audience:read"))]
NO_STORE = {"Cache-Control": "no-store"}


def _evidence(request: Request) -> Evidence:
    return Evidence(ip=request.client.host if request.client else None,
                    user_agent=(request.headers.get("user-agent") or "")[:2000] or None,
                    sec_gpc=(request.headers.get("sec-gpc") or "")[:100] or None)


@pages.get("/unsubscribe/{token}", response_class=HTMLResponse,
           summary="Show the one-click unsubscribe button (never unsubscribes)")
def unsubscribe_page(token: str, request: Request, instance: InstanceDep, now: NowDep
                     ) -> HTMLResponse:
    """The button, naming the mails it stops. A link that fails its signature (cut off
    or broken across lines by a mail program) is said to be damaged, so nobody is told
    they are unsubscribed when nothing happened; whether its person exists is not
    looked up, so the page tells no more than the link itself holds."""
    lang = negotiate(request)
    try:
        _, purpose, _ = read_unsubscribe_token(instance.keyring, token, now=now)
    except TokenInvalid:
        response = render(request, "consent/unsubscribe.html",
                          {"lang": lang, "token": token, "damaged": True}, status_code=400)
    else:
        with instance.db.read() as session:
            title = instance.notices.purpose_title(session, purpose, lang)
        response = render(request, "consent/unsubscribe.html",
                          {"lang": lang, "token": token, "done": False, "title": title})
    response.headers.update(NO_STORE)
    return response


@pages.post("/unsubscribe/{token}", response_class=HTMLResponse,
            summary="One-click unsubscribe (RFC 8058): withdraws at once")
def unsubscribe(token: str, request: Request, instance: InstanceDep, now: NowDep
                ) -> HTMLResponse:
    with instance.db.write() as session:
        one_click_unsubscribe(session, instance.audit, instance.keyring, token,
                              evidence=_evidence(request), now=now)
    response = render(request, "consent/unsubscribe.html",
                      {"lang": negotiate(request), "token": token, "done": True})
    response.headers.update(NO_STORE)
    return response


@api.get("/check", response_model=ConsentCheck,
         summary="May this address be contacted for the purpose on the channel now?")
async def check(caller: Reader, instance: InstanceDep,
                email: Annotated[str, Query(min_length=1, max_length=320,
                                            json_schema_extra={"format": "email"})],
                purpose: Annotated[str, Query(pattern=PURPOSE_PATTERN)],
                channel: Annotated[str, Query(pattern=CHANNEL_PATTERN)] = "email"
                ) -> Response:
    # Integrations ask before every send. Async: a plain `def` endpoint would cost a
    # hop to the thread pool, and the read itself needs none on SQLite (see
    # `Database.first`). The answer is a `ConsentCheck` the route serialises itself
    # (`response_model` documents it): FastAPI would validate it again.
    answer = await check_address(instance.db, instance.subjects,
                                 email=email, purpose=purpose, channel=channel)
    return Response(answer.model_dump_json(), media_type="application/json")


@subject_api.get("/{subject_id}/consents", response_model=list[ConsentEventView],
                 summary="A subject's consent history, oldest first")
def consents(subject_id: str, caller: Reader, instance: InstanceDep, now: NowDep
             ) -> list[ConsentEventView]:
    with instance.db.write() as session:
        return subject_history(session, instance.audit, subject_id, actor=caller.actor,
                               now=now)


def _ndjson(batches: Iterator[list[tuple[str, str]]], field: str) -> Iterator[str]:
    # The line is put together here rather than by json.dumps per row: the same
    # output ({"id": ..., "email": ...}), a fifth of the cost at a million rows.
    line = '{"id": %s, ' + json.dumps(field) + ': %s}\n'
    for batch in batches:
        yield "".join([line % (quoted(sid), quoted(value)) for sid, value in batch])


def _csv(batches: Iterator[list[tuple[str, str]]], field: str) -> Iterator[str]:
    yield csv_text([("id", field)])
    for batch in batches:
        yield csv_text(batch)


@audience_api.get("", summary="Stream the subjects with active consent (NDJSON or CSV)",
                  response_class=StreamingResponse,
                  responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
def audience(caller: Exporter, instance: InstanceDep, now: NowDep,
             purpose: Annotated[str, Query(pattern=PURPOSE_PATTERN)],
             channel: Annotated[AudienceChannel, Query()] = "email",
             format: Annotated[Literal["ndjson", "csv"], Query()] = "ndjson",
             ) -> StreamingResponse:
    field = contact_field(channel)
    # One reference for the whole pull: each batch's audit entry names it, the count and
    # the list of who was in the batch (kept beside the chain), not a thousand ids.
    batches = export_audience(instance.db, instance.subjects, purpose, channel,
                              actor=caller.actor, now=now, batch=f"pull:{new_id()}")
    if format == "csv":
        return StreamingResponse(_csv(batches, field), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition":
                                          f'attachment; filename="audience-{purpose}.csv"'})
    return StreamingResponse(_ndjson(batches, field), media_type="application/x-ndjson")
