"""Consent API for integrations: signups, a subject's consent history, the audience.

`POST /api/v1/signups` has the semantics of the signup form (double opt-in,
published texts only, the same answer for new and known addresses).
`GET /api/v1/audience` streams the people with active consent, decrypted in
batches, as NDJSON or CSV (by `format=` or the Accept header).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.consent.audience import stream_audience
from ehrlich.consent.schemas import (
    CHANNEL_PATTERN,
    PURPOSE_PATTERN,
    ConsentEventView,
    SignupInput,
    SignupReceipt,
)
from ehrlich.consent.service import history
from ehrlich.consent.web import evidence_of
from ehrlich.instance.service import Instance
from ehrlich.subjects.errors import SubjectNotFound
from ehrlich.subjects.models import Subject
from ehrlich.web.deps import InstanceDep, NowDep, require_scope

router = APIRouter(prefix="/api/v1", tags=["consent"])
Signer = Annotated[ApiPrincipal, Depends(require_scope("signups:write"))]
Reader = Annotated[ApiPrincipal, Depends(require_scope("consent:read"))]
AudienceReader = Annotated[ApiPrincipal, Depends(require_scope("audience:read"))]
CSV_TYPE = "text/csv; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"


@router.post("/signups", response_model=SignupReceipt, status_code=202,
             summary="Sign someone up: records `requested` and sends the confirmation mail")
def create_signup(data: SignupInput, request: Request, caller: Signer, instance: InstanceDep,
                  now: NowDep) -> SignupReceipt:
    assert instance.signups is not None
    return instance.signups.sign_up(instance.db, instance.mail, data, method="api",
                                    evidence=evidence_of(request), now=now)


@router.get("/subjects/{subject_id}/consents", response_model=list[ConsentEventView],
            summary="Every consent event of a subject, oldest first")
def consent_history(subject_id: str, caller: Reader, instance: InstanceDep
                    ) -> list[ConsentEventView]:
    with instance.db.read() as session:
        if session.get(Subject, subject_id) is None:
            raise SubjectNotFound(f"no subject with id {subject_id}")
        return history(session, subject_id)


Contact = tuple[str, str | None, str | None]


def _batches(instance: Instance, purpose: str, channel: str, actor: str, now: datetime
             ) -> Iterator[list[Contact]]:
    for ids in stream_audience(instance.db, purpose, channel):
        with instance.db.write() as session:  # the decryption is audited
            yield instance.subjects.contacts(session, ids, actor=actor, purpose=purpose,
                                             now=now)


def _ndjson(batches: Iterator[list[Contact]]) -> Iterator[bytes]:
    """One chunk per batch: the response body is written a batch at a time."""
    for batch in batches:
        yield "".join(json.dumps({"id": sid, "email": email, "name": name},
                                 ensure_ascii=False) + "\n"
                      for sid, email, name in batch).encode()


def _csv(batches: Iterator[list[Contact]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["id", "email", "name"])
    for batch in batches:
        writer.writerows([sid, email or "", name or ""] for sid, email, name in batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


@router.get("/audience", summary="Stream the people with active consent (NDJSON or CSV)",
            responses={200: {"content": {NDJSON_TYPE: {}, "text/csv": {}}}})
def audience(request: Request, caller: AudienceReader, instance: InstanceDep, now: NowDep,
             purpose: Annotated[str, Query(pattern=PURPOSE_PATTERN)],
             channel: Annotated[str, Query(pattern=CHANNEL_PATTERN)] = "email",
             format: Annotated[Literal["ndjson", "csv"] | None, Query()] = None,
             ) -> StreamingResponse:
    chosen = format or ("csv" if "text/csv" in request.headers.get("accept", "") else "ndjson")
    rows = _batches(instance, purpose, channel, caller.actor, now)
    if chosen == "csv":
        return StreamingResponse(_csv(rows), media_type=CSV_TYPE)
    return StreamingResponse(_ndjson(rows), media_type=NDJSON_TYPE)
