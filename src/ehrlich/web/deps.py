"""FastAPI dependencies, defined once: the instance, the clock, the API caller."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from ehrlich.auth.api_tokens import ApiPrincipal, mark_used
from ehrlich.auth.errors import InvalidApiToken
from ehrlich.instance.service import Instance

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="API token from `ehrlich token create`")
bearer = _bearer  # for a dependency that takes its scope from the path


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def`
# dependency in the thread pool, and that hop costs more than the call.
async def get_instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


async def get_now() -> datetime:
    return datetime.now(UTC)


InstanceDep = Annotated[Instance, Depends(get_instance)]
NowDep = Annotated[datetime, Depends(get_now)]


def _mark_used(instance: Instance, token_id: str, now: datetime) -> None:
    """"Last used" is a convenience: a busy database does not fail the API call for it."""
    try:
        with instance.db.write() as session:
            mark_used(session, token_id, now=now)
    except OperationalError:
        log.warning("could not record the use of API token %s", token_id)


def require_scope(scope: str) -> Callable[..., Awaitable[ApiPrincipal]]:
    # Async so that a cached token costs no hop to the thread pool; a lookup
    # still runs there, never on the event loop.
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        now: NowDep,
    ) -> ApiPrincipal:
        instance = await get_instance(request)
        if credentials is None:
            raise InvalidApiToken("send an API token as `Authorization: Bearer <token>`")
        token = credentials.credentials
        principal = instance.api_tokens.cached(token)
        if principal is None:
            principal = await run_in_threadpool(instance.api_tokens.authenticate,
                                                instance.db, token)
        principal.require(scope)
        if instance.api_tokens.needs_mark(principal.token_id, now):
            await run_in_threadpool(_mark_used, instance, principal.token_id, now)
        return principal

    return dependency
