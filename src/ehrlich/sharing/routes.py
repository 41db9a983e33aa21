"""The API pull of a release by its recipient: `GET /api/v1/recipients/{id}/release`.

The token must carry the scope `recipient:<id>` for exactly that recipient (made
with `ehrlich token create --scope recipient:mailer`), so a processor's token
fetches its own releases and nothing else. The answer is the same selection as
`ehrlich export --recipient`: people whose active consent (or other declared basis)
was recorded under a notice naming the recipient for the purpose; each pull is a
disclosure batch with one row per person. No copy is recorded: no member of staff
holds the file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from ehrlich.auth.api_tokens import ApiPrincipal
from ehrlich.consent.schemas import PURPOSE_PATTERN
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.service import ExportRequest, SharingService
from ehrlich.web.deps import InstanceDep, NowDep, bearer, require_scope

router = APIRouter(prefix="/api/v1/recipients", tags=["sharing"])
RECIPIENT = r"^[a-z][a-z0-9_-]{0,62}$"


async def _recipient_token(
        request: Request, recipient: Annotated[str, Path(pattern=RECIPIENT)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        now: NowDep) -> ApiPrincipal:
    return await require_scope(f"recipient:{recipient}")(request, credentials, now)


@router.get("/{recipient}/release", response_class=StreamingResponse,
            summary="Pull the people released to this recipient for a purpose (NDJSON or CSV)",
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
def release(recipient: Annotated[str, Path(pattern=RECIPIENT)],
            caller: Annotated[ApiPrincipal, Depends(_recipient_token)],
            instance: InstanceDep, now: NowDep,
            purpose: Annotated[str, Query(pattern=PURPOSE_PATTERN)],
            format: Annotated[Literal["ndjson", "csv"], Query()] = "ndjson",
            ) -> StreamingResponse:
    file = instance.service(SharingService).release(ExportRequest(
        purpose, "", format, f"pulled over the API by token {caller.name}", recipient),
        recipient, Caller(caller.actor), now=now, track=False)
    return StreamingResponse(iter(file.body), media_type=file.media_type,
                             headers={"cache-control": "no-store"})
