"""FastAPI dependencies, defined once: the instance, the clock, the API caller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ehrlich.auth.api_tokens import ApiPrincipal, authenticate_api_token
from ehrlich.auth.errors import InvalidApiToken
from ehrlich.instance.service import Instance

_bearer = HTTPBearer(auto_error=False, description="API token from `ehrlich token create`")


def get_instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


def get_now() -> datetime:
    return datetime.now(UTC)


InstanceDep = Annotated[Instance, Depends(get_instance)]
NowDep = Annotated[datetime, Depends(get_now)]


def require_scope(scope: str) -> Callable[..., ApiPrincipal]:
    def dependency(
        instance: InstanceDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiPrincipal:
        if credentials is None:
            raise InvalidApiToken("send an API token as `Authorization: Bearer <token>`")
        with instance.db.read() as session:
            principal = authenticate_api_token(session, credentials.credentials)
        principal.require(scope)
        return principal

    return dependency
