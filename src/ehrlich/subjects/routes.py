"""HTTP API for subjects. Handlers parse, authorise, call one service method.

Each handler opens its own unit of work so that the commit happens before the
response is sent: a failed commit is an error response, never a false 2xx.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.subjects.schemas import SubjectChanges, SubjectInput, SubjectView
from ehrlich.web.deps import InstanceDep, NowDep, require_scope

router = APIRouter(prefix="/api/v1/subjects", tags=["subjects"])

Reader = Annotated[ApiPrincipal, Depends(require_scope("subjects:read"))]
Writer = Annotated[ApiPrincipal, Depends(require_scope("subjects:write"))]
Eraser = Annotated[ApiPrincipal, Depends(require_scope("subjects:erase"))]


@router.post("", response_model=SubjectView, status_code=status.HTTP_201_CREATED,
             summary="Create a subject (de-duplicated by email)",
             responses={200: {"description": "A subject with this email already existed"}})
def create_subject(body: SubjectInput, caller: Writer, now: NowDep, instance: InstanceDep,
                   response: Response) -> SubjectView:
    with instance.db.write() as session:
        outcome = instance.subjects.create(session, body, actor=caller.actor, now=now)
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{router.prefix}/{outcome.subject.id}"
    return outcome.subject


@router.get("", response_model=list[SubjectView],
            summary="Find subjects by exact email or phone number")
def search_subjects(caller: Reader, now: NowDep, instance: InstanceDep,
                    email: Annotated[str | None, Query(
                        max_length=320, json_schema_extra={"format": "email"})] = None,
                    phone: Annotated[str | None, Query(max_length=64)] = None
                    ) -> list[SubjectView]:
    with instance.db.write() as session:
        return instance.subjects.find(session, email=email, phone=phone, actor=caller.actor,
                                      now=now)


@router.get("/{subject_id}", response_model=SubjectView, summary="Read one subject")
def get_subject(subject_id: str, caller: Reader, now: NowDep, instance: InstanceDep
                ) -> SubjectView:
    with instance.db.write() as session:
        return instance.subjects.get(session, subject_id, actor=caller.actor, now=now)


@router.patch("/{subject_id}", response_model=SubjectView,
              summary="Rectify a subject: change only the fields given")
def rectify_subject(subject_id: str, body: SubjectChanges, caller: Writer, now: NowDep,
                    instance: InstanceDep) -> SubjectView:
    with instance.db.write() as session:
        return instance.subjects.rectify(session, subject_id, body, actor=caller.actor, now=now)


@router.delete("/{subject_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Erase a subject (crypto-shredding; irreversible)")
def erase_subject(subject_id: str, caller: Eraser, now: NowDep, instance: InstanceDep) -> Response:
    instance.subjects.erase(instance.db, subject_id, actor=caller.actor, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
