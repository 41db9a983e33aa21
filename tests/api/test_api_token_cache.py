"""API tokens verified from the per-process cache: revocation latency and its bounds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from ehrlich.app import create_app
from ehrlich.auth.api_tokens import (
    PREFIX,
    ApiTokenCache,
    create_api_token,
    revoke_api_token,
)
from ehrlich.errors import EhrlichError
from ehrlich.instance.service import Instance
from tests.conftest import NOW

CHECK = "/api/v1/consent/check?email=a@example.org&purpose=newsletter"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _token(instance: Instance, *scopes: str) -> tuple[str, str]:
    with instance.db.write() as session:
        token, record = create_api_token(session, name="cache", scopes=list(scopes), now=NOW)
    return token, record.id


def _revoke(instance: Instance, token_id: str) -> None:
    with instance.db.write() as session:
        revoke_api_token(session, token_id, now=NOW)


def _client(instance: Instance, cache: ApiTokenCache) -> TestClient:
    return TestClient(create_app(replace(instance, api_tokens=cache)),
                      raise_server_exceptions=False)


def test_revoked_token_is_refused_at_once_without_cache(instance: Instance) -> None:
    token, token_id = _token(instance, "consent:read")
    with _client(instance, ApiTokenCache(0)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(CHECK, headers=headers).status_code == 200
        _revoke(instance, token_id)
        assert client.get(CHECK, headers=headers).status_code == 401


def test_revoked_token_works_until_its_entry_expires(instance: Instance) -> None:
    clock = Clock()
    token, token_id = _token(instance, "consent:read")
    with _client(instance, ApiTokenCache(5, clock=clock)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(CHECK, headers=headers).status_code == 200
        _revoke(instance, token_id)  # as `ehrlich token revoke` in another process
        clock.now += 4.9
        assert client.get(CHECK, headers=headers).status_code == 200
        clock.now += 0.2
        refused = client.get(CHECK, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_scopes_are_checked_on_cached_tokens(instance: Instance) -> None:
    token, _ = _token(instance, "consent:read")
    with _client(instance, ApiTokenCache(60)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(CHECK, headers=headers).status_code == 200
        denied = client.get("/api/v1/audience?purpose=newsletter", headers=headers)
        assert denied.status_code == 403


def test_wrong_tokens_are_never_cached(instance: Instance) -> None:
    token, _ = _token(instance, "consent:read")
    cache = ApiTokenCache(60)
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(3):
        with pytest.raises(EhrlichError):
            cache.authenticate(instance.db, wrong)
        assert cache.cached(wrong) is None
    assert cache.authenticate(instance.db, token).scopes == frozenset({"consent:read"})
    assert cache.cached(token) is not None


def test_cache_is_bounded_and_forgets_revoked_tokens(instance: Instance) -> None:
    cache = ApiTokenCache(60, size=2)
    made = [_token(instance, "consent:read") for _ in range(3)]
    for token, _ in made:
        cache.authenticate(instance.db, token)
    assert cache.cached(made[0][0]) is None  # the oldest was dropped
    assert cache.cached(made[1][0]) is not None
    cache.forget(made[2][1])
    assert cache.cached(made[2][0]) is None
    assert cache.cached(made[1][0]) is not None


def test_cache_holds_no_token_secret(instance: Instance) -> None:
    token, _ = _token(instance, "consent:read")
    cache = ApiTokenCache(60)
    cache.authenticate(instance.db, token)
    held = repr(cache._entries)
    # Read as `authenticate` reads it: the secret may hold "_" itself (the last part
    # alone, one character at times, turned up in the repr by chance).
    secret = token.removeprefix(PREFIX).split("_", 1)[1]
    assert secret not in held
